/**
 * Lays a `BenchResult` out as text: every figure comes from the result, nothing is decided here. Also a command:
 * `node dist/bench/format.js bench/results/<date>.json` prints a recorded result again.
 */
import * as fs from "node:fs";
import { BenchResult, Row, Run } from "./analysis";

const ms = (v: number) => (v >= 10000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const bytes = (v: number) => (v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(1)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${v} B`);

/** A number as its column's unit: ratios, times, sizes, counts. */
function cell(key: string, value: string | number | undefined): string {
  if (value === undefined) return "-";
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return String(value);
  if (/^N=|\/ floor|^none \/|^value|^limit/.test(key)) return `${value.toFixed(2)}${/^(value|limit)/.test(key) ? "" : "x"}`;
  if (/writes per step/.test(key)) return value.toFixed(1);
  if (/per (step|res|MiB)/.test(key)) return `${value.toFixed(2)} ms`;
  if (/wall|CPU/.test(key)) return ms(value);
  if (/RSS|wrote/.test(key)) return bytes(value);
  return String(Math.round(value));
}

export function table(rows: Row[]): string[] {
  if (rows.length === 0) return ["(none)"];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const text = rows.map((r) => keys.map((k) => cell(k, r[k])));
  const widths = keys.map((k, i) => Math.max(k.length, ...text.map((t) => t[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(keys), line(widths.map((w) => "-".repeat(w))), ...text.map(line)];
}

/** One row of the measurements table. */
function runRow(run: Run): Row {
  const { engine, program, host, client, driver, emulator, ...others } = run.cpuMs;
  const cpu = Object.entries({ client, host, driver, engine, program, ...others }).filter(([, v]) => v !== undefined);
  const note = run.error
    ? `FAILED: ${run.error.split("\n")[0].slice(0, 80)}`
    : run.timedOut
      ? `stopped: ${run.resources} of ${run.n} in state`
      : run.checkpoints === false
        ? "no checkpoints"
        : "";
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
    "set/get/token": run.calls ? `${run.calls.set}/${run.calls.get}/${run.calls.token}` : undefined,
    "state B/res": run.stateBytes ? run.stateBytes / run.n : undefined,
    "in+out B/res": run.propertiesBytes,
    note,
  };
}

export function formatResult(r: BenchResult): string[] {
  const { machine: m, options: o, derived: d } = r;
  const C = o.concurrency;
  return [
    `pulumi-wechat benchmark: ${r.command}, started ${r.startedAt}`,
    `machine: nproc ${m.nproc}, memory ${m.memoryGiB.toFixed(1)} GiB, CPU "${m.cpu}", Node.js ${m.node}, ${m.os}`,
    `load average at start: ${r.loadAverage.start.join(" ")}; at end: ${r.loadAverage.end.join(" ")}`,
    `concurrency C = ${C}: floor ${C} requests in flight, gRPC driver and engines --parallel ${C}, wechat:maxConcurrency ${C}`,
    `project: npm pack -> ${r.project.tarballBytes} bytes, installed in ${ms(r.project.installMs)}; __provider ${r.project.providerBytes} bytes`,
    "",
    ...o.latency.flatMap((latency) => [
      `== measurements, ${latency} ms added to every API call`,
      ...table(r.runs.filter((run) => run.latencyMs === latency).map(runRow)),
      "",
    ]),
    `== ratios of wall times, ${d.latencyMs} ms, same run`,
    ...table(d.ratios),
    "",
    `== the real CLI's checkpoints (file backend, whole state rewritten per step), ${d.latencyMs} ms, --parallel ${C}`,
    ...table(d.checkpointCost),
    "",
    `== the real CLI's up by --parallel, N=${o.sweepN}, ${d.latencyMs} ms`,
    ...table(d.parallelSweep),
    "",
    "== targets",
    ...table(r.targets.map((t) => ({ verdict: t.met ? "MET" : "MISSED", target: t.name, value: t.value, limit: t.limit }))),
    "",
    `bench time ${ms(r.benchMs)} (after npm run build)`,
  ];
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: node dist/bench/format.js bench/results/<date>.json");
  for (const line of formatResult(JSON.parse(fs.readFileSync(file, "utf8")) as BenchResult)) console.log(line);
}
