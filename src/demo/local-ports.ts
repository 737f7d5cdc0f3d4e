/**
 * Small helpers for processes this machine starts for itself (the local fleet, tests, the soak): a
 * free loopback port, and whether a redis-server answers PING on one.
 */
import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';

/** Ports this process has handed out, so two calls never return the same one. */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for another process to listen on.
 *
 * It is picked below the kernel's ephemeral range on purpose. A port from `listen(0)` comes from
 * that range, and so does the local port of every outgoing connection: between our check and the
 * other process's bind, a busy test run's next connect can take it (seen in CI as EADDRINUSE on a
 * port from `listen(0)`). Below the range only another listener can collide, and the check catches
 * the ones already there.
 */
export async function freePort(): Promise<number> {
  const lowest = 20_000;
  const highest = ephemeralRangeStart() - 1;
  for (let attempt = 0; highest - lowest >= 1_000 && attempt < 100; attempt++) {
    const port = lowest + Math.floor(Math.random() * (highest - lowest + 1));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  return anyPort();
}

/** The first port of the kernel's ephemeral range (Linux's default where it cannot be read). */
function ephemeralRangeStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > 0 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The fallback: whatever `listen(0)` gives. */
function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether a redis-server on 127.0.0.1:`port` answers PING within half a second. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}
