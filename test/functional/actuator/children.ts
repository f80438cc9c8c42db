/** Runs a test actuator (lease-child.ts) as its own process, reads its JSON lines and sends it commands. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LeaseChildCommand, LeaseChildSpec } from './lease-child.ts';

const childFile = fileURLToPath(new URL('./lease-child.ts', import.meta.url));

export interface ChildLine {
  event?: string;
  router?: string;
  step?: number;
  status?: string;
  detail?: string;
  final?: { id: string; status: string; error?: string }[];
  ready?: boolean;
  /** A leadership transition of the child: leading (true) or standing by again (false), with the epoch. */
  leader?: boolean;
  epoch?: number;
  /** The child's wall clock at the line. */
  at?: number;
  /** A proposal the child submitted and approved on command. */
  submitted?: string;
}

export interface ActuatorChild {
  child: ChildProcess;
  lines: ChildLine[];
  waitFor(p: (l: ChildLine) => boolean, ms?: number): Promise<ChildLine>;
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  /** Sends a command (one JSON line on stdin; see lease-child.ts). */
  send(command: LeaseChildCommand): void;
}

export function runActuatorChild(spec: LeaseChildSpec): ActuatorChild {
  const child = spawn(process.execPath, ['--import', 'tsx', childFile], {
    env: { ...process.env, PP_LEASE: JSON.stringify(spec) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: ChildLine[] = [];
  const waiters: { p: (l: ChildLine) => boolean; resolve: (l: ChildLine) => void }[] = [];
  let buf = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let l: ChildLine;
      try {
        l = JSON.parse(text) as ChildLine;
      } catch {
        continue; // A log line, not an event.
      }
      lines.push(l);
      for (const w of [...waiters]) if (w.p(l)) w.resolve(l);
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    lines,
    exited,
    waitFor: (p, ms = 60_000) =>
      new Promise<ChildLine>((resolve, reject) => {
        const hit = lines.find(p);
        if (hit) return resolve(hit);
        const t = setTimeout(() => reject(new Error(`actuator child: condition not met within ${ms} ms`)), ms);
        waiters.push({ p, resolve: (l) => (clearTimeout(t), resolve(l)) });
      }),
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    send(command) {
      child.stdin!.write(`${JSON.stringify(command)}\n`);
    },
  };
}
