/**
 * `npm run --silent engine -- …` (USAGE): one command through the real Pulumi CLI (when installed, or with --engine
 * pulumi) or through the engine harness, on a file backend. With --json the last line of stdout is the summary as one
 * JSON object. Exit status 0 only when every step and the program succeeded.
 */
import * as path from "node:path";
import { parseArgs as parseNodeArgs } from "node:util";
import { chooseEngine, runPulumi } from "../pulumi/run";
import { Command, EngineOptions, STEP_SYMBOLS, Summary, runDeployment } from "./engine";
import { Redactor } from "./values";

interface CliOptions extends EngineOptions {
  json: boolean;
  engine?: string;
}

const COMMANDS: Command[] = ["preview", "up", "refresh", "destroy"];

const USAGE =
  "usage: engine <preview|up|refresh|destroy> --cwd DIR --stack NAME [--backend DIR] [--config KEY=VALUE]... " +
  "[--secret KEY=VALUE]... [--json] [--parallel N] [--transpile-only] [--verbose] [--continue-on-error] " +
  "[--run-program] [--engine harness|pulumi]";

const pairs = (list: string[] | undefined, flag: string): Record<string, string> =>
  Object.fromEntries(
    (list ?? []).map((v) => {
      if (v.indexOf("=") <= 0) throw new Error(`--${flag} expects KEY=VALUE, got ${JSON.stringify(v)}`);
      return [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)];
    }),
  );

function parseArgs(argv: string[]): CliOptions {
  const { values: v, positionals } = parseNodeArgs({
    args: argv,
    allowPositionals: true,
    options: {
      cwd: { type: "string" },
      stack: { type: "string", short: "s" },
      backend: { type: "string" },
      parallel: { type: "string", short: "p" },
      engine: { type: "string" },
      config: { type: "string", short: "c", multiple: true },
      secret: { type: "string", multiple: true },
      json: { type: "boolean" },
      "transpile-only": { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      "continue-on-error": { type: "boolean" },
      "run-program": { type: "boolean" },
    },
  });
  const [command, ...extra] = positionals;
  if (extra.length > 0) throw new Error(`unexpected argument ${extra[0]}`);
  if (!COMMANDS.includes(command as Command)) throw new Error(`command must be one of ${COMMANDS.join(", ")}`);
  if (!v.stack) throw new Error("--stack NAME is required");
  const parallel = v.parallel === undefined ? undefined : Number(v.parallel);
  if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1)) throw new Error("--parallel needs a positive integer");
  return {
    command: command as Command,
    cwd: path.resolve(v.cwd ?? process.cwd()),
    stack: v.stack,
    backendDir: v.backend === undefined ? undefined : path.resolve(v.backend),
    config: pairs(v.config, "config"),
    secrets: pairs(v.secret, "secret"),
    json: v.json === true,
    parallel,
    transpileOnly: v["transpile-only"] === true,
    verbose: v.verbose === true,
    continueOnError: v["continue-on-error"] === true,
    runProgram: v["run-program"] === true,
    engine: v.engine,
  };
}

/** The CLI's closing block. */
function formatSummary(s: Summary): string[] {
  const lines = ["", "Resources:"];
  for (const op of ["create", "update", "replace", "delete"] as const) {
    if (s.changes[op] > 0) lines.push(`    ${STEP_SYMBOLS[op]} ${s.changes[op]} ${s.command === "preview" ? `to ${op}` : `${op}d`}`);
  }
  lines.push(`    ${s.changes.same} unchanged`);
  const outputs = Object.entries(s.outputs);
  if (outputs.length > 0) lines.push("", "Outputs:", ...outputs.map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`));
  if (s.failed.length > 0)
    lines.push(
      "",
      `Errors (${s.failed.length}):`,
      ...s.failed.map((f) => `    ${f.urn && `${f.urn}: `}${f.message.replace(/\n/g, "\n        ")}`),
    );
  lines.push("", `Duration: ${(s.durationMs / 1000).toFixed(1)}s`);
  return lines;
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
  const redactor = new Redactor();
  for (const secret of Object.values(opts.secrets ?? {})) redactor.add(secret);
  let summary: Summary;
  let engine: Summary["engine"] = "harness";
  try {
    engine = chooseEngine(opts.engine);
    summary = await (engine === "pulumi" ? runPulumi : runDeployment)(opts, out, redactor);
  } catch (e) {
    const message = redactor.redact((e as Error).message ?? String(e));
    out.stderr(`error: ${message}`);
    const changes = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
    const failed = [{ urn: "", message }];
    summary = {
      engine,
      command: opts.command,
      project: "",
      stack: opts.stack,
      stateFile: "",
      changes,
      outputs: {},
      steps: [],
      failed,
      durationMs: 0,
    };
  }
  // The real CLI prints its own closing block.
  if (summary.engine === "harness") for (const line of formatSummary(summary)) out.stdout(redactor.redact(line));
  if (opts.json) out.stdout(redactor.redact(JSON.stringify(summary)));
  return summary.failed.length === 0 && (summary.programExitCode ?? 0) === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    // Exit once stdout has drained, so the summary line is never cut off.
    (code) => process.stdout.write("", () => process.exit(code)),
    (e: unknown) => {
      process.stderr.write(`internal error: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
