/**
 * NGINX as the reference proxy: one worker, upstream keep-alive, every path (pid, temp, logs) inside the
 * run's temp dir so it needs no system setup and leaves nothing behind.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Idle keep-alive connections nginx keeps to the upstream (per worker). */
const UPSTREAM_KEEPALIVE = 64;
const WORKER_CONNECTIONS = 4096;
/** Holds a 16 KiB POST in memory; the x86-64 default (8k) would spool every such body to a temp file. */
const CLIENT_BODY_BUFFER = '64k';

/** Where nginx listens and what it forwards to. */
export interface NginxSetup {
  readonly dir: string;
  readonly port: number;
  readonly upstreamPort: number;
}

/** Renders the nginx.conf of a bench run. */
export function renderNginxConfig({ dir, port, upstreamPort }: NginxSetup): string {
  const temp = (name: string) => join(dir, name);
  return `worker_processes 1;
daemon off;
pid ${temp('nginx.pid')};
error_log ${temp('nginx-error.log')} warn;
events { worker_connections ${WORKER_CONNECTIONS}; }
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  client_body_buffer_size ${CLIENT_BODY_BUFFER};
  keepalive_requests 1000000;
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive ${UPSTREAM_KEEPALIVE};
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** Writes nginx.conf into `dir` and returns the arguments that start nginx on it in the foreground. */
export function writeNginxConfig(setup: NginxSetup): string[] {
  mkdirSync(setup.dir, { recursive: true });
  // Started as root, the worker drops to an unprivileged user that must reach the temp paths.
  chmodSync(setup.dir, 0o755);
  const file = join(setup.dir, 'nginx.conf');
  writeFileSync(file, renderNginxConfig(setup));
  return ['-p', `${setup.dir}/`, '-c', file];
}
