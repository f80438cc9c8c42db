/**
 * The HTTP(S) front of one emulated router: nginx + FastAPI as VyOS ships them. Three body encodings
 * (multipart, urlencoded, raw JSON), key auth, the `{success,data,error}` envelope with
 * `text/html; charset=utf-8`, the real status codes and error texts (vyos-facts.md §1.2–1.4).
 * Multipart and urlencoded bodies are parsed with the WHATWG `Request.formData()` of Node's undici.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { EmulatedRouter, ConfigureOp, SectionOp } from './router.ts';
import { VyosConfigError } from './types.ts';

/** Endpoints nginx proxies to the API (`^/(retrieve|configure|…)`, a prefix match). */
const proxied =
  /^\/(retrieve|configure|config-file|image|import-pki|container-image|generate|show|reboot|reset|poweroff|docs|openapi\.json|redoc|graphql|info)/;
const internalError = 'An internal error occured. Check the logs for details.';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Python `repr` of a parsed JSON value (the server quotes commands so in `Malformed command` errors). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
    .join(', ')}}`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit the rest is drained (not kept) so the 413 can still be sent.
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => (size > limit ? reject(new HttpError(413, 'Request Entity Too Large')) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

interface ParsedRequest {
  body: Record<string, unknown>;
  form: boolean;
}

/** Decodes the three encodings into the request object the routers see. */
async function parseRequest(req: IncomingMessage, raw: Buffer, version: '1.4' | '1.5'): Promise<ParsedRequest> {
  const ct = (req.headers['content-type'] ?? '').toLowerCase();
  if (ct.startsWith('multipart/form-data') || ct.startsWith('application/x-www-form-urlencoded')) {
    let form: FormData;
    try {
      form = await new Request('http://emulator/', {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type']! },
        body: raw,
      }).formData();
    } catch {
      throw new HttpError(400, 'Failed to parse form data');
    }
    const data = form.get('data');
    if (typeof data !== 'string' || data === '') throw new HttpError(422, 'Non-empty data field is required');
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch (err) {
      throw new HttpError(400, `Failed to parse JSON: ${(err as Error).message}`);
    }
    const body: Record<string, unknown> = Array.isArray(parsed)
      ? { commands: parsed }
      : parsed !== null && typeof parsed === 'object'
        ? { ...(parsed as Record<string, unknown>) }
        : {};
    const key = form.get('key');
    if (body.key === undefined && typeof key === 'string') body.key = key;
    return { body, form: true };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new HttpError(
      400,
      `{'type': 'json_invalid', 'loc': ('body', 0), 'msg': 'JSON decode error', 'input': {}, 'ctx': {'error': ${pyRepr((err as Error).message)}}}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(
      400,
      `{'type': 'model_attributes_type', 'loc': ('body',), 'msg': 'Input should be a valid dictionary or object to extract fields from', 'input': ${pyRepr(parsed)}}`,
    );
  }
  const body = parsed as Record<string, unknown>;
  if (typeof body.key !== 'string') {
    // str(exc.errors()[0]): pydantic v1 on 1.4, v2 on 1.5.
    throw new HttpError(
      400,
      version === '1.4'
        ? `{'loc': ('body', 'key'), 'msg': 'field required', 'type': 'value_error.missing'}`
        : `{'type': 'missing', 'loc': ('body', 'key'), 'msg': 'Field required', 'input': ${pyRepr({ ...body })}, 'url': 'https://errors.pydantic.dev/2.9/v/missing'}`,
    );
  }
  return { body, form: false };
}

/** The command list of a request: `commands` or the request itself (single command). */
function commandsOf(body: Record<string, unknown>): unknown[] {
  return Array.isArray(body.commands) ? (body.commands as unknown[]) : [body];
}

function malformed(c: unknown, what: string): HttpError {
  return new HttpError(400, `Malformed command '${pyRepr(c)}': ${what}`);
}

/**
 * The request-shape checks the server runs before authentication (`MultipartRequest.body()` for
 * forms, pydantic for JSON), with the form-mode texts. The key is left out of echoed commands.
 */
function validateShape(body: Record<string, unknown>, endpoint: string, version: '1.4' | '1.5', confirms: boolean): void {
  // Only images with commit-confirm have the ConfirmModel; elsewhere it is a command without `path`.
  if (confirms && endpoint === '/configure' && body.op === 'confirm' && !('path' in body) && !Array.isArray(body.commands))
    return;
  const pathless =
    version === '1.5'
      ? ['/config-file', '/container-image', '/image', '/configure-section', '/traceroute']
      : ['/config-file', '/container-image', '/image'];
  for (const raw of commandsOf(body)) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw malformed(raw, 'any command must be JSON of dict');
    const c = { ...(raw as Record<string, unknown>) };
    delete c.key;
    if (!('op' in c)) throw malformed(c, "missing 'op' field");
    if (!pathless.includes(endpoint)) {
      if (!('path' in c)) throw malformed(c, "missing 'path' field");
      if (!Array.isArray(c.path)) throw malformed(c, "'path' field must be a list");
      // Sic: the server formats this one with a literal 0 instead of the command.
      if (!c.path.every((p) => typeof p === 'string')) throw malformed(0, "'path' field must be a list of strings");
    }
    if (endpoint === '/configure') {
      if ((c.path as unknown[]).length === 0) throw malformed(c, "'path' list must be non-empty");
      if ('value' in c && typeof c.value !== 'string') throw malformed(c, "'value' field must be a string");
    }
    if (endpoint === '/configure-section') {
      if (version === '1.5') {
        if (!('section' in c) && !('config' in c)) throw malformed(c, "missing 'section' or 'config' field");
      } else {
        if (!('section' in c)) throw malformed(c, "missing 'section' field");
        if (c.section === null || typeof c.section !== 'object' || Array.isArray(c.section))
          throw malformed(c, "'section' field must be JSON of dict");
      }
    }
  }
}

function confirmMinutes(body: Record<string, unknown>): number | undefined {
  const t = body.confirm_time;
  if (t === undefined || t === null) return undefined;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
    throw new HttpError(
      400,
      `{'type': 'int_type', 'loc': ('body', 'confirm_time'), 'msg': 'Input should be a valid integer', 'input': ${pyRepr(t)}}`,
    );
  return t;
}

/** Requests that commit (and so wait out a slow commit); confirm, save and reads do not. */
function commits(endpoint: string, body: Record<string, unknown>): boolean {
  if (endpoint === '/configure') return !(body.op === 'confirm' && !Array.isArray(body.commands));
  if (endpoint === '/configure-section') return true;
  return endpoint === '/config-file' && (body.op === 'load' || body.op === 'merge');
}

const configEndpoints = new Set(['/configure', '/configure-section', '/config-file']);

/** Handles one authenticated API call; returns the `data` of the success envelope. */
function dispatch(router: EmulatedRouter, endpoint: string, body: Record<string, unknown>): unknown {
  const v15 = router.version === '1.5';
  // Images before June 2025 have no commit-confirm: `confirm` is no operation, `confirm_time` no field.
  const confirms = router.features.commitConfirm;
  switch (endpoint) {
    case '/retrieve': {
      const fmt = typeof body.configFormat === 'string' ? body.configFormat : 'json';
      return router.retrieve(String(body.op), body.path as string[], fmt);
    }
    case '/configure': {
      if (body.op === 'confirm' && !Array.isArray(body.commands)) {
        if (!confirms) throw new HttpError(400, `'confirm' is not a valid operation`);
        return router.confirm();
      }
      const cmds = commandsOf(body) as Record<string, unknown>[];
      const ops: ConfigureOp[] = cmds.map((c) => ({
        op: String(c.op),
        path: c.path as string[],
        ...(c.value !== undefined ? { value: c.value as string } : {}),
      }));
      return router.configure(ops, { confirmMinutes: confirms ? confirmMinutes(body) : undefined });
    }
    case '/configure-section': {
      const cmds = commandsOf(body) as Record<string, unknown>[];
      return router.configureSection(cmds as unknown as SectionOp[], confirms ? confirmMinutes(body) : undefined);
    }
    case '/config-file': {
      const op = String(body.op);
      if (op === 'confirm' && confirms) return router.confirm();
      if (op === 'save') return router.saveConfig(typeof body.file === 'string' ? body.file : undefined);
      if (op === 'load' || (op === 'merge' && v15)) {
        const file = typeof body.file === 'string' ? body.file : undefined;
        const text = v15 && typeof body.string === 'string' ? body.string : undefined;
        if (file === undefined && text === undefined)
          throw new HttpError(400, v15 ? 'Missing required field "file | string"' : 'Missing required field "file"');
        return router.loadConfig(op, { file, text }, confirms ? confirmMinutes(body) : undefined);
      }
      throw new HttpError(400, `'${op}' is not a valid operation`);
    }
    case '/generate': {
      if (body.op !== 'generate') throw new HttpError(400, `'${String(body.op)}' is not a valid operation`);
      return router.generate(body.path as string[]);
    }
    case '/show': {
      if (body.op !== 'show') throw new HttpError(400, `'${String(body.op)}' is not a valid operation`);
      return router.show(body.path as string[]);
    }
    case '/reset': {
      if (body.op !== 'reset') throw new HttpError(400, `'${String(body.op)}' is not a valid operation`);
      return '';
    }
    default:
      throw new HttpError(404, 'Not Found');
  }
}

function send(res: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8'): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), server: 'nginx' });
  res.end(body);
}

function envelopeOk(data: unknown): string {
  return JSON.stringify({ success: true, data: data ?? null, error: null });
}

function envelopeError(router: EmulatedRouter, message: string): string {
  const text = router.version === '1.5' ? escapeHtml(message) : message;
  return JSON.stringify({ success: false, error: text, data: null });
}

const nginx404 =
  '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const nginx413 =
  '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const nginx502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const nginx503 =
  '<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

function info(router: EmulatedRouter, url: URL): string {
  const allowed = new Set(['version', 'hostname']);
  for (const k of url.searchParams.keys()) {
    if (!allowed.has(k))
      throw new HttpError(
        400,
        `{'type': 'extra_forbidden', 'loc': ('query', ${pyRepr(k)}), 'msg': 'Extra inputs are not permitted', 'input': ${pyRepr(url.searchParams.get(k))}}`,
      );
  }
  const flag = (k: string) => !['false', '0', 'no', 'off'].includes((url.searchParams.get(k) ?? 'true').toLowerCase());
  return envelopeOk({
    version: flag('version') ? router.image : '',
    hostname: flag('hostname') ? router.hostname : '',
    banner: 'Welcome to VyOS',
  });
}

async function handle(router: EmulatedRouter, req: IncomingMessage, res: ServerResponse, limit: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const endpoint = url.pathname;
  router.countRequest(endpoint);
  const latency = router.faults.current.latencyMs ?? 0;
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  if (router.faults.take('hangRequests')) return; // never answered; the socket closes with the server
  if (!proxied.test(endpoint)) return send(res, 404, nginx404);
  // Images without /info (1.4, 1.5 before March 2025) do not list it in nginx's proxied paths.
  if (endpoint === '/info' && !router.features.info) return send(res, 404, nginx404);
  if (router.apiRestarting()) return send(res, 502, nginx502);
  if (router.version === '1.4' && !router.apiEnabled()) return send(res, 503, nginx503);
  if (router.version === '1.5' && !router.apiEnabled())
    return send(res, 404, JSON.stringify({ detail: 'Not Found' }), 'application/json');
  if (router.faults.take('fail5xx')) return send(res, 500, envelopeError(router, internalError));
  try {
    if (endpoint === '/info') {
      if (req.method !== 'GET') return send(res, 405, JSON.stringify({ detail: 'Method Not Allowed' }), 'application/json');
      return send(res, 200, info(router, url));
    }
    if (req.method !== 'POST') return send(res, 405, JSON.stringify({ detail: 'Method Not Allowed' }), 'application/json');
    const known = ['/retrieve', '/configure', '/configure-section', '/config-file', '/generate', '/show', '/reset'];
    if (!known.includes(endpoint)) return send(res, 404, JSON.stringify({ detail: 'Not Found' }), 'application/json');
    const raw = await readBody(req, limit);
    const { body } = await parseRequest(req, raw, router.version);
    validateShape(body, endpoint, router.version, router.features.commitConfirm);
    if (typeof body.key !== 'string' || !router.apiKeys().includes(body.key))
      throw new HttpError(401, 'Valid API key is required');
    delete body.key;
    const data = configEndpoints.has(endpoint)
      ? await router.serializeConfig(commits(endpoint, body), () => dispatch(router, endpoint, body))
      : dispatch(router, endpoint, body);
    send(res, 200, envelopeOk(data));
  } catch (err) {
    if (err instanceof HttpError) {
      if (err.status === 413) return send(res, 413, nginx413);
      if (err.status === 404) return send(res, 404, JSON.stringify({ detail: err.message }), 'application/json');
      return send(res, err.status, envelopeError(router, err.message));
    }
    if (err instanceof VyosConfigError) return send(res, err.status, envelopeError(router, err.message));
    send(res, 500, envelopeError(router, internalError));
  }
}

export interface RouterServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the router's server on `host` with an ephemeral port. */
export async function startRouterServer(
  router: EmulatedRouter,
  opts: { host: string; tls?: { key: string; cert: string } },
): Promise<RouterServer> {
  const sockets = new Set<Socket>();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // request-body-size-limit (MB), default 1.
    const mb = Number(router.returnValue(['service', 'https', 'request-body-size-limit']) ?? '1');
    handle(router, req, res, mb * 1024 * 1024).catch(() => send(res, 500, envelopeError(router, internalError)));
  };
  const server: Server = opts.tls
    ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest)
    : createHttpServer(onRequest);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.host, () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('router server has no TCP address');
  const url = `${opts.tls ? 'https' : 'http'}://${opts.host}:${addr.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
