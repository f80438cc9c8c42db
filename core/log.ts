import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line (API keys, Slack secrets, auth headers). */
export const redactedPaths = [
  'apiKey',
  'api_key',
  'key',
  'token',
  'secret',
  'password',
  'signingSecret',
  'authorization',
  '*.apiKey',
  '*.api_key',
  '*.key',
  '*.token',
  '*.secret',
  '*.password',
  '*.signingSecret',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

export interface LogOptions {
  level?: string;
  name?: string;
  /** Write to this destination instead of stdout (tests pass a stream). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? process.env.PATHPILOT_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
    name: options.name ?? 'pathpilot',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: undefined,
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/**
 * Hot-path errors are logged at most `burst` times per `intervalMs` per key, and always counted
 * by the caller's metrics (akvorado's rule: errors are fatal or rate-limited and counted).
 */
export function rateLimitedLogger(log: Logger, intervalMs = 10_000, burst = 3) {
  const windows = new Map<string, { start: number; count: number }>();
  return (key: string, fields: Record<string, unknown>, message: string): void => {
    const now = Date.now();
    const w = windows.get(key);
    if (!w || now - w.start > intervalMs) {
      windows.set(key, { start: now, count: 1 });
    } else if (++w.count > burst) {
      return;
    }
    log.warn(fields, message);
  };
}
