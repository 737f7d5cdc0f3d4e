/**
 * The common choice: a plain `@fastify/http-proxy` 11 on fastify 5 with default options.
 * Started as a child: `node bench/fastify-http-proxy.ts --port N --upstream http://127.0.0.1:M`.
 */
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { parseArgs } from 'node:util';
import { exitWithParent } from './processes.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const app = Fastify({ logger: false });
await app.register(httpProxy, { upstream: String(values.upstream) });
await app.listen({ port: Number(values.port), host: '127.0.0.1' });
exitWithParent();
