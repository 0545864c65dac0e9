/**
 * `npm run demo`, the README's first command: starts the WeChat API emulator, runs the quickstart program (the root
 * Pulumi.yaml) through preview, up, and a second up that must change nothing, then prints what the emulator holds.
 * It uses the real Pulumi CLI when `npm run pulumi:install` has built it (WECHAT_ENGINE=harness forces the harness),
 * the engine harness otherwise, and says which.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { WeChatEmulator } from "./emulator/server";
import { RunEngineOptions, chooseEngine, runEngine } from "./harness";
import { DEMO_CREDENTIALS, accountCredentials } from "./support/emulator";

const root = path.resolve(__dirname, "..", "..");

async function step(title: string, options: RunEngineOptions): Promise<NonNullable<Awaited<ReturnType<typeof runEngine>>["summary"]>> {
  console.log(`\n=== ${title}`);
  const result = await runEngine(options);
  // Everything but the machine-readable last line is what a user would see.
  const lines = result.stdout.trimEnd().split("\n");
  console.log(lines.slice(0, -1).join("\n"));
  if (result.stderr.trim()) console.error(result.stderr.trimEnd());
  if (result.code !== 0 || !result.summary) throw new Error(`${title} failed (exit ${result.code})`);
  return result.summary;
}

async function main(): Promise<void> {
  const emulator = new WeChatEmulator();
  emulator.addDemo();
  const baseUrl = await emulator.start();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-wechat-demo-"));
  const engine = chooseEngine();
  console.log(`WeChat API emulator on ${baseUrl} (demo account ${DEMO_CREDENTIALS.appId}).`);
  console.log(
    engine === "pulumi"
      ? "Engine: the Pulumi CLI (built by `npm run pulumi:install`)."
      : "Engine: the engine harness (Pulumi's own program runtime and provider host, driven over gRPC); `npm run pulumi:install` builds the real CLI.",
  );
  // The demo account's own credentials, with the provider's own retry settings.
  const { config, secrets } = accountCredentials(baseUrl, {});
  const options = (command: RunEngineOptions["command"]): RunEngineOptions => ({
    command,
    cwd: root,
    stack: "demo",
    backendDir: stateDir,
    config: { ...config, "wechat-quickstart:authorizerAppId": DEMO_CREDENTIALS.appId },
    secrets,
    engine,
  });
  try {
    const preview = await step("pulumi preview", options("preview"));
    if (emulator.callCounts().total !== 0) throw new Error("preview called the WeChat API");
    await step("pulumi up", options("up"));
    emulator.clearRequests();
    const again = await step("pulumi up (again: nothing to do)", options("up"));
    const { create, update, replace, delete: deleted } = again.changes;
    if (create + update + replace + deleted !== 0 || emulator.callCounts().set !== 0) throw new Error("the second up changed something");
    console.log(`\n=== What the emulator holds for ${DEMO_CREDENTIALS.appId}`);
    console.log(
      JSON.stringify(
        { options: emulator.options(DEMO_CREDENTIALS.appId), callbackConfig: emulator.callbackConfig(DEMO_CREDENTIALS.appId) },
        null,
        2,
      ),
    );
    console.log(
      `\nDone: preview planned ${preview.changes.create} creates with no API call; up applied them; the second up changed nothing.`,
    );
  } finally {
    await emulator.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`demo failed: ${error.message}`);
  process.exit(1);
});
