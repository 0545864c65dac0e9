/**
 * CPU time and peak memory of other processes, read from /proc (Linux): utime+stime from /proc/<pid>/stat and
 * VmHWM from /proc/<pid>/status. A process's entry disappears when it exits, so a `ProcessWatch` samples while it
 * runs and keeps the last values it saw.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process in ms, or undefined once it is gone. */
export function cpuMs(pid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks();
}

/** Peak resident set size (VmHWM) in bytes, or undefined once the process is gone. */
export function peakRssBytes(pid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

function parentOf(pid: number): number | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/** The live descendants of `root` whose command line contains `marker`. */
export function findDescendants(root: number, marker: string): number[] {
  const all = fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  const parents = new Map(all.map((pid) => [pid, parentOf(pid)]));
  const isDescendant = (pid: number): boolean => {
    // Bounded walk up the tree (a process tree is never this deep).
    let current: number | undefined = pid;
    for (let depth = 0; depth < 64 && current !== undefined && current > 1; depth++) {
      current = parents.get(current);
      if (current === root) return true;
    }
    return false;
  };
  return all.filter((pid) => isDescendant(pid) && commandLine(pid).includes(marker));
}

export interface Usage {
  pid?: number;
  /** CPU (user + system) in ms at the last sample. */
  cpuMs: number;
  /** Peak RSS (VmHWM) in bytes at the last sample. */
  peakRssBytes: number;
}

/**
 * Samples the descendants of `root` matching each marker every `intervalMs` until `stop()`. The last sample before a
 * process exits is what is kept: it misses at most one interval of that process's CPU.
 */
export class ProcessWatch {
  readonly usage = new Map<string, Usage>();
  private timer: NodeJS.Timeout;

  /** `markers`: name → a string of the command line; the empty string names `root` itself. */
  constructor(
    private readonly root: number,
    private readonly markers: Record<string, string>,
    intervalMs = 20,
  ) {
    for (const [name, marker] of Object.entries(markers))
      this.usage.set(name, { pid: marker === "" ? root : undefined, cpuMs: 0, peakRssBytes: 0 });
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  sample(): void {
    for (const [name, marker] of Object.entries(this.markers)) {
      const usage = this.usage.get(name)!;
      if (usage.pid === undefined) usage.pid = findDescendants(this.root, marker)[0];
      if (usage.pid === undefined) continue;
      const cpu = cpuMs(usage.pid);
      const rss = peakRssBytes(usage.pid);
      if (cpu !== undefined) usage.cpuMs = cpu;
      if (rss !== undefined) usage.peakRssBytes = rss;
    }
  }

  stop(): Map<string, Usage> {
    clearInterval(this.timer);
    this.sample();
    return this.usage;
  }
}
