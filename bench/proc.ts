/** What other processes use, from Linux /proc: CPU (utime + stime), peak RSS (VmHWM), bytes written (wchar). */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { commandOf, descendants } from "../test/support/processes";

const MS_PER_TICK = 1000 / (Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100);

export type Usage = { cpuMs: number; peakRssBytes: number; writtenBytes: number };

/** What a process has used so far, or undefined once it is gone. */
export function usageOf(pid: number): Usage | undefined {
  try {
    const [stat, status, io] = ["stat", "status", "io"].map((file) => fs.readFileSync(`/proc/${pid}/${file}`, "utf8"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // after the command name, which may hold spaces
    const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
    const cpuMs = (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
    return { cpuMs, peakRssBytes: field(status, "VmHWM") * 1024, writtenBytes: field(io, "wchar") };
  } catch {
    return undefined;
  }
}

/** The dynamic-provider host's command line (not the `node -e "require.resolve(...)"` the CLI's plugin script runs first). */
export const HOST_MARKER = /cmd\/dynamic-provider(\/index\.js)?( |$)/;

export const findProcess = (root: number, marker: RegExp) => descendants(root).find((pid) => marker.test(commandOf(pid)));

/**
 * Samples `root` (marker `undefined`) and the first descendant matching each other marker every 20 ms until the
 * returned function is called, which answers the last sample of each: it misses at most 20 ms of a process's CPU.
 */
export function watch(root: number, markers: Record<string, RegExp | undefined>): () => Record<string, Usage> {
  const pids: Record<string, number | undefined> = {};
  const usage = Object.fromEntries(
    Object.keys(markers).map((name): [string, Usage] => [name, { cpuMs: 0, peakRssBytes: 0, writtenBytes: 0 }]),
  );
  const sample = () => {
    for (const [name, marker] of Object.entries(markers)) {
      const pid = (pids[name] ??= marker ? findProcess(root, marker) : root);
      const now = pid && usageOf(pid);
      if (!now) continue;
      // An exited process keeps its CPU until it is reaped, not its memory or I/O: keep the largest of those seen.
      for (const key of ["peakRssBytes", "writtenBytes"] as const) now[key] = Math.max(now[key], usage[name][key]);
      usage[name] = now;
    }
  };
  const timer = setInterval(sample, 20);
  sample();
  return () => {
    clearInterval(timer);
    sample();
    return usage;
  };
}
