/** A result as text, deciding nothing; `node dist/bench/format.js bench/results/<date>.json` prints a recorded one. */
import * as fs from "node:fs";
import { Row, Run } from "./analysis";
import type { BenchResult } from "./run";

const ms = (v: number) => (v >= 10000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const bytes = (v: number) => (v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(1)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`);

/** A number in its column's unit, which the column's name tells: ratios, times, sizes, counts. */
function cell(column: string, value: string | number | undefined): string {
  if (typeof value !== "number") return value ?? "-";
  if (!Number.isFinite(value)) return String(value);
  if (/^(value|limit)$/.test(column)) return value.toFixed(2);
  if (/^N=|\/ floor/.test(column)) return `${value.toFixed(2)}x`;
  if (column === "writes per step") return value.toFixed(1);
  if (/per (step|res|MiB)/.test(column)) return `${value.toFixed(2)} ms`;
  if (/wall|CPU/.test(column)) return ms(value);
  if (/RSS|wrote/.test(column)) return bytes(value);
  return String(Math.round(value));
}

export function table(rows: Row[]): string[] {
  if (rows.length === 0) return ["(none)"];
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [columns, columns.map(() => ""), ...rows.map((r) => columns.map((c) => cell(c, r[c])))];
  const widths = columns.map((_, i) => Math.max(...lines.map((line) => line[i].length)));
  lines[1] = widths.map((w) => "-".repeat(w));
  const pad = (text: string, i: number) => (i === 0 ? text.padEnd(widths[i]) : text.padStart(widths[i]));
  return lines.map((line) => line.map(pad).join("  ").trimEnd());
}

function runRow(run: Run): Row {
  const { client, host, driver, engine, program, emulator, ...others } = run.cpuMs;
  const cpu = Object.entries({ client, host, driver, engine, program, ...others }).filter(([, v]) => v !== undefined);
  const stopped = run.timedOut ? `stopped: ${run.resources} of ${run.n} in state` : run.checkpoints === false ? "no checkpoints" : "";
  return {
    scenario: `${run.part} ${run.scenario}`,
    engine: run.engine ?? "-",
    N: run.n,
    "--parallel": run.parallel,
    wall: run.wallMs,
    "wall per res": run.wallMs / run.n,
    "CPU by process": cpu.map(([k, v]) => `${k} ${ms(v!)}`).join(", "),
    "emulator CPU": emulator,
    "host RSS": run.peakRssBytes,
    "set/get/token": run.calls && `${run.calls.set}/${run.calls.get}/${run.calls.token}`,
    "state B/res": run.stateBytes ? run.stateBytes / run.n : undefined,
    "in+out B/res": run.propertiesBytes,
    note: run.error ? `FAILED: ${run.error.split("\n")[0].slice(0, 80)}` : stopped,
  };
}

export function formatResult(r: BenchResult): string[] {
  const { machine: m, options: o, derived: d } = r;
  const C = o.concurrency;
  const L = d.latencyMs;
  const section = (title: string, rows: Row[]) => [`== ${title}`, ...table(rows), ""];
  // JSON has no Infinity: a recorded result holds null for the value of a stopped run.
  const verdicts = r.targets.map((t) => ({
    verdict: t.met ? "MET" : "MISSED",
    target: t.name,
    value: t.value ?? Infinity,
    limit: t.limit,
  }));
  return [
    `pulumi-wechat benchmark: ${r.command}, started ${r.startedAt}`,
    `machine: nproc ${m.nproc}, memory ${m.memoryGiB.toFixed(1)} GiB, CPU "${m.cpu}", Node.js ${m.node}, ${m.os}`,
    `load average at start: ${r.loadAverage.start.join(" ")}; at end: ${r.loadAverage.end.join(" ")}`,
    `concurrency C = ${C}: floor ${C} requests in flight, gRPC driver and engines --parallel ${C}, wechat:maxConcurrency ${C}`,
    `project: npm pack -> ${r.project.tarballBytes} bytes, installed in ${ms(r.project.installMs)}; __provider ${r.project.providerBytes} bytes`,
    "",
    ...o.latency.flatMap((latency) =>
      section(`measurements, ${latency} ms added to every API call`, r.runs.filter((run) => run.latencyMs === latency).map(runRow)),
    ),
    ...section(`ratios of wall times, ${L} ms, same run`, d.ratios),
    ...section(`the real CLI's checkpoints (file backend, whole state rewritten per step), ${L} ms, --parallel ${C}`, d.checkpointCost),
    ...section(`the real CLI's up by --parallel, N=${o.sweepN}, ${L} ms`, d.parallelSweep),
    ...section("targets", verdicts),
    `bench time ${ms(r.benchMs)} (after npm run build)`,
  ];
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: node dist/bench/format.js bench/results/<date>.json");
  for (const line of formatResult(JSON.parse(fs.readFileSync(file, "utf8")) as BenchResult)) console.log(line);
}
