/**
 * npm run --silent engine -- <preview|up|refresh|destroy> --cwd DIR --stack NAME [--backend DIR]
 *     [--config KEY=VALUE]... [--secret KEY=VALUE]... [--json] [--parallel N] [--transpile-only] [--verbose]
 *     [--continue-on-error] [--run-program] [--refresh] [--engine harness|pulumi]
 *
 * Runs the command through the real Pulumi CLI (when installed, or with --engine pulumi) or through the engine
 * harness, on a file backend. With --json the last line of stdout is the summary as one JSON object. Exit status 0
 * only when every step and the program succeeded.
 */
import * as path from "path";
import { chooseEngine, runPulumi } from "../pulumi/run";
import { Command, EngineOptions, Summary, runDeployment } from "./engine";
import { Redactor } from "./values";

export interface CliOptions extends EngineOptions {
  json: boolean;
  engine?: string;
}

const COMMANDS: Command[] = ["preview", "up", "refresh", "destroy"];

export const USAGE =
  "usage: engine <preview|up|refresh|destroy> --cwd DIR --stack NAME [--backend DIR] [--config KEY=VALUE]... " +
  "[--secret KEY=VALUE]... [--json] [--parallel N] [--transpile-only] [--verbose] [--continue-on-error] " +
  "[--run-program] [--refresh] [--engine harness|pulumi]";

export function parseArgs(argv: string[]): CliOptions {
  const opts: CliOptions = { command: "up", cwd: process.cwd(), stack: "", json: false, config: {}, secrets: {} };
  let command: string | undefined;
  const args = [...argv];
  while (args.length > 0) {
    let arg = args.shift()!;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.includes("=")) {
      inline = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    const value = (): string => {
      const v = inline ?? args.shift();
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const pair = (): [string, string] => {
      const v = value();
      const eq = v.indexOf("=");
      if (eq <= 0) throw new Error(`${arg} expects KEY=VALUE, got ${JSON.stringify(v)}`);
      return [v.slice(0, eq), v.slice(eq + 1)];
    };
    switch (arg) {
      case "--cwd":
        opts.cwd = path.resolve(value());
        break;
      case "--stack":
      case "-s":
        opts.stack = value();
        break;
      case "--backend":
        opts.backendDir = path.resolve(value());
        break;
      case "--continue-on-error":
        opts.continueOnError = true;
        break;
      case "--run-program":
        opts.runProgram = true;
        break;
      case "--refresh":
        opts.refresh = true;
        break;
      case "--config":
      case "-c": {
        const [k, v] = pair();
        opts.config![k] = v;
        break;
      }
      case "--secret": {
        const [k, v] = pair();
        opts.secrets![k] = v;
        break;
      }
      case "--json":
        opts.json = true;
        break;
      case "--parallel":
      case "-p": {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Error("--parallel needs a positive integer");
        opts.parallel = n;
        break;
      }
      case "--transpile-only":
        opts.transpileOnly = true;
        break;
      case "--verbose":
      case "-v":
        opts.verbose = true;
        break;
      case "--engine":
        opts.engine = value();
        break;
      default:
        if (arg.startsWith("-") || command !== undefined) throw new Error(`unexpected argument ${arg}`);
        command = arg;
    }
  }
  if (!command || !COMMANDS.includes(command as Command)) throw new Error(`command must be one of ${COMMANDS.join(", ")}`);
  if (!opts.stack) throw new Error("--stack NAME is required");
  opts.command = command as Command;
  if (process.env.PULUMI_NODEJS_TRANSPILE_ONLY === "true") opts.transpileOnly = true;
  return opts;
}

/** The CLI's closing block: counts, outputs, errors, duration. */
export function formatSummary(s: Summary): string[] {
  const preview = s.command === "preview";
  const lines = ["", "Resources:"];
  const count = (n: number, symbol: string, done: string, todo: string) => {
    if (n > 0) lines.push(`    ${symbol} ${n} ${preview ? `to ${todo}` : done}`);
  };
  count(s.changes.create, "+", "created", "create");
  count(s.changes.update, "~", "updated", "update");
  count(s.changes.replace, "+-", "replaced", "replace");
  count(s.changes.delete, "-", "deleted", "delete");
  lines.push(`    ${s.changes.same} unchanged`);
  const outputs = Object.entries(s.outputs);
  if (outputs.length > 0) {
    lines.push("", "Outputs:");
    for (const [k, v] of outputs) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  }
  if (s.failed.length > 0) {
    lines.push("", `Errors (${s.failed.length}):`);
    for (const f of s.failed) {
      const [first, ...rest] = f.message.split("\n");
      lines.push(`    ${f.urn}: ${first}`);
      for (const r of rest) lines.push(`        ${r}`);
    }
  }
  lines.push("", `Duration: ${(s.durationMs / 1000).toFixed(1)}s`);
  return lines;
}

export function emptySummary(opts: CliOptions, message: string): Summary {
  return {
    engine: "harness",
    command: opts.command,
    project: "",
    stack: opts.stack,
    stateFile: "",
    changes: { create: 0, update: 0, replace: 0, delete: 0, same: 0 },
    outputs: {},
    steps: [],
    failed: [{ urn: "", message }],
    durationMs: 0,
  };
}

async function main(argv: string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const write = (stream: NodeJS.WriteStream) => (line: string) => stream.write(line + "\n");
  const out = { stdout: write(process.stdout), stderr: write(process.stderr) };
  let summary: Summary;
  let redactor = new Redactor();
  for (const v of Object.values(opts.secrets ?? {})) redactor.add(v);
  try {
    if (chooseEngine(opts.engine) === "pulumi") {
      summary = await runPulumi(opts, out, redactor);
    } else {
      const result = await runDeployment(opts, out);
      summary = result.summary;
      redactor = result.redactor;
      for (const v of Object.values(opts.secrets ?? {})) redactor.add(v);
    }
  } catch (e) {
    const message = redactor.redact((e as Error).message ?? String(e));
    out.stderr(`error: ${message}`);
    summary = emptySummary(opts, message);
  }
  // The real CLI prints its own closing block.
  if (summary.engine === "harness") for (const line of formatSummary(summary)) out.stdout(redactor.redact(line));
  if (opts.json) out.stdout(redactor.redact(JSON.stringify(summary)));
  const ok = summary.failed.length === 0 && (summary.programExitCode ?? 0) === 0;
  return ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Exit once stdout has drained, so the summary line is never cut off.
      process.stdout.write("", () => process.exit(code));
    },
    (e: unknown) => {
      process.stderr.write(`internal error: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
