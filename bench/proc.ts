/**
 * CPU time, peak memory and bytes written of other processes, read from /proc (Linux): utime+stime from
 * /proc/<pid>/stat, VmHWM from /proc/<pid>/status, wchar from /proc/<pid>/io. A process's entry disappears when it
 * exits, so a `ProcessWatch` samples while it runs and keeps the last values it saw.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

const read = (pid: number, file: string): string | undefined => {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
};

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
const statFields = (pid: number) => {
  const text = read(pid, "stat");
  return text?.slice(text.lastIndexOf(")") + 2).split(" ");
};

/** What one process has used so far: CPU (user + system) in ms, peak RSS and bytes written. */
export interface Usage {
  cpuMs: number;
  peakRssBytes: number;
  writtenBytes: number;
}

/** The usage of a live process, or undefined once it is gone. */
export function usageOf(pid: number): Usage | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  const rss = /^VmHWM:\s+(\d+)\s+kB/m.exec(read(pid, "status") ?? "");
  const written = /^wchar:\s+(\d+)/m.exec(read(pid, "io") ?? "");
  return {
    cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND,
    peakRssBytes: rss ? Number(rss[1]) * 1024 : 0,
    writtenBytes: written ? Number(written[1]) : 0,
  };
}

/** The dynamic-provider host's command line (not the `node -e "require.resolve(...)"` the CLI's plugin script runs first). */
export const HOST_MARKER = /cmd\/dynamic-provider(\/index\.js)?( |$)/;

/** The live descendants of `root` whose command line (arguments joined by spaces) matches `marker`. */
export function findDescendants(root: number, marker: RegExp): number[] {
  const all = fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  const parents = new Map(all.map((pid) => [pid, Number(statFields(pid)?.[1])]));
  const isDescendant = (pid: number): boolean => {
    let current: number | undefined = pid;
    for (let depth = 0; depth < 64 && current !== undefined && current > 1; depth++) {
      current = parents.get(current);
      if (current === root) return true;
    }
    return false;
  };
  return all.filter((pid) => isDescendant(pid) && marker.test((read(pid, "cmdline") ?? "").split("\0").join(" ")));
}

/**
 * Samples `root` and those of its descendants matching each marker every 20 ms until `stop()`. The last sample before
 * a process exits is what is kept: it misses at most one interval of that process's CPU.
 */
export class ProcessWatch {
  private readonly pids = new Map<string, number>();
  private readonly usage = new Map<string, Usage>();
  private readonly timer: NodeJS.Timeout;

  /** `markers`: name → a pattern of the command line; `undefined` names `root` itself. */
  constructor(
    private readonly root: number,
    private readonly markers: Record<string, RegExp | undefined>,
  ) {
    this.timer = setInterval(() => this.sample(), 20);
    this.sample();
  }

  private sample(): void {
    for (const [name, marker] of Object.entries(this.markers)) {
      const pid = this.pids.get(name) ?? (marker ? findDescendants(this.root, marker)[0] : this.root);
      if (pid === undefined) continue;
      this.pids.set(name, pid);
      const [now, last] = [usageOf(pid), this.usage.get(name)];
      // A process that has exited but is not yet reaped still answers its CPU, but no longer its memory or I/O.
      if (now)
        this.usage.set(
          name,
          last
            ? {
                ...now,
                peakRssBytes: Math.max(now.peakRssBytes, last.peakRssBytes),
                writtenBytes: Math.max(now.writtenBytes, last.writtenBytes),
              }
            : now,
        );
    }
  }

  stop(): Record<string, Usage> {
    clearInterval(this.timer);
    this.sample();
    const empty: Usage = { cpuMs: 0, peakRssBytes: 0, writtenBytes: 0 };
    return Object.fromEntries(Object.keys(this.markers).map((name) => [name, this.usage.get(name) ?? empty]));
  }
}
