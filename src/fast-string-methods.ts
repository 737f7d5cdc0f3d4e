/**
 * Keeps V8 able to inline string methods (`slice`, `indexOf`, `charCodeAt`…) in optimised code.
 *
 * Any `class … extends String` in the process turns `String.prototype` into a dictionary-mode
 * object. ioredis defines one (`VerbatimString`, for RESP3) when it loads. Optimised code cannot
 * inline a method from a dictionary-mode prototype, so every `text.slice(…)` on the request path
 * becomes a call into V8's generic property-load builtin (`Builtins_LoadIC`). Counted with
 * callgrind, that builtin took about 22,400 instructions per GET in Switchyard against 4,900 in the
 * bare fastify + undici proxy, which loads no ioredis; the client-address function alone went from
 * 7,148 to 2,517 instructions per call with this fix (`npm run bench:loop`, ioredis loaded first).
 *
 * V8 turns a prototype fast again the first time an inline cache loads a property through it
 * from an object, not from a string primitive, which is why the request path never does it. So
 * this does that load once, from a String wrapper object, in a function called often enough to
 * get an inline cache. Call it after every module is loaded; calling it again is harmless.
 */
export function restoreFastStringMethods(): void {
  const wrapper = Object('') as object;
  // V8 gives a function its inline caches after a few calls (lazy feedback allocation: 8 today).
  for (let i = 0; i < 64; i++) loadThrough(wrapper);
}

function loadThrough(wrapper: object): unknown {
  return (wrapper as { charCodeAt?: unknown }).charCodeAt;
}
