/**
 * `npm run emulator -- [--port N (default 8765)] [--token-lifetime S] [--latency MS] [--fleet N] [--seed N]`
 *
 * Starts the WeChat API emulator on 127.0.0.1 with the demo platform and account of DEMO_CREDENTIALS
 * (plus N fleet accounts authorized to the demo platform), prints ONE JSON line to stdout:
 *   {"baseUrl":"http://127.0.0.1:PORT","credentials":{...},"fleet":[...]}   ("fleet" only with --fleet)
 * and runs until SIGINT or SIGTERM, then exits 0. Errors go to stderr with exit code 2 (bad usage) or 1.
 */
import { WeChatEmulator, EmulatorOptions, FleetAccount } from "./server";

interface CliArgs {
  port: number;
  tokenLifetimeSec?: number;
  latencyMs?: number;
  fleet: number;
  seed?: number;
}

const USAGE = "usage: npm run emulator -- [--port N] [--token-lifetime S] [--latency MS] [--fleet N] [--seed N]";

/** The port the examples' `dev` stacks expect the emulator on. */
export const DEFAULT_PORT = 8765;

class UsageError extends Error {}

function parseArgs(argv: string[]): CliArgs {
  // 8765 is the port the examples' `dev` stacks point at (examples/*/Pulumi.dev.yaml); --port 0 picks a free one.
  const args: CliArgs = { port: DEFAULT_PORT, fleet: 0 };
  const number = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (value === undefined || value === "" || !Number.isFinite(n) || n < min) {
      throw new UsageError(`${flag} needs a number >= ${min}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value: string | undefined;
    const eq = flag.indexOf("=");
    if (flag.startsWith("--") && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const next = () => value ?? argv[++i];
    switch (flag) {
      case "--port":
        args.port = number(flag, next(), 0);
        break;
      case "--token-lifetime":
        args.tokenLifetimeSec = number(flag, next(), 1);
        break;
      case "--latency":
        args.latencyMs = number(flag, next(), 0);
        break;
      case "--fleet":
        args.fleet = Math.floor(number(flag, next(), 0));
        break;
      case "--seed":
        args.seed = Math.floor(number(flag, next(), 0));
        break;
      case "-h":
      case "--help":
        process.stdout.write(USAGE + "\n");
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${flag}`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const options: EmulatorOptions = {
    tokenLifetimeSec: args.tokenLifetimeSec,
    latencyMs: args.latencyMs,
    seed: args.seed,
  };
  const emu = new WeChatEmulator(options);
  const credentials = emu.addDemo();
  let fleet: FleetAccount[] | undefined;
  if (args.fleet > 0) fleet = emu.addFleet(credentials.componentAppId, args.fleet);
  const baseUrl = await emu.start(args.port);

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    emu.stop().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`emulator: error while stopping: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  const line: Record<string, unknown> = { baseUrl, credentials };
  if (fleet) line.fleet = fleet;
  process.stdout.write(JSON.stringify(line) + "\n");
}

main().catch((err: Error) => {
  process.stderr.write(`emulator: ${err.message}\n`);
  process.exit(1);
});
