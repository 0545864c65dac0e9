/**
 * `npm run emulator -- [--port N] [--latency MS] [--fleet N]`
 *
 * Serves the WeChat API emulator on 127.0.0.1 with the demo platform and account of DEMO_CREDENTIALS, plus N fleet
 * accounts authorized to the demo platform, and prints ONE JSON line to stdout:
 *   {"baseUrl":"http://127.0.0.1:PORT","credentials":{...},"fleet":[...]}   ("fleet" only with --fleet)
 * then runs until SIGINT or SIGTERM and exits 0. Errors go to stderr, with exit code 2 for bad usage, else 1.
 */
import { WeChatEmulator } from "./server";

/** The port the examples' `dev` stacks (their Pulumi.dev.yaml) expect; --port 0 picks a free one. */
const DEFAULT_PORT = 8765;

/** The value of each flag, from "--flag value" or "--flag=value". */
function parseArgs(argv: string[]): { port: number; latency: number; fleet: number } {
  const args = { port: DEFAULT_PORT, latency: 0, fleet: 0 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const name = flag.slice(2) as keyof typeof args;
    if (!flag.startsWith("--") || !(name in args)) usageError(`unknown argument ${argv[i]}`);
    const value = Number(inline ?? argv[++i]);
    if (!Number.isInteger(value) || value < 0) usageError(`${flag} needs a whole number >= 0`);
    args[name] = value;
  }
  return args;
}

function usageError(message: string): never {
  process.stderr.write(`${message}\nusage: npm run emulator -- [--port N] [--latency MS] [--fleet N]\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const emulator = new WeChatEmulator();
  const credentials = emulator.addDemo();
  const fleet = args.fleet > 0 ? emulator.addFleet(credentials.componentAppId, args.fleet) : undefined;
  emulator.setLatency(args.latency);
  const baseUrl = await emulator.start(args.port);
  for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => void emulator.stop().then(() => process.exit(0)));
  process.stdout.write(JSON.stringify({ baseUrl, credentials, ...(fleet && { fleet }) }) + "\n");
}

main().catch((err: Error) => {
  process.stderr.write(`emulator: ${err.message}\n`);
  process.exit(1);
});
