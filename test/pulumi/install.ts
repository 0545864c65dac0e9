/**
 * `npm run pulumi:install`: the real Pulumi CLI, built from Go modules into a cache directory outside git, pinned to
 * the version of the project's `@pulumi/pulumi`. Next to the binary go the two plugins a Node.js program with
 * dynamic resources needs, where the CLI looks for bundled plugins first: `pulumi-language-nodejs` (languageHost.ts)
 * and `pulumi-resource-pulumi-nodejs` (a script that ships inside `@pulumi/pulumi`).
 *
 * The first build downloads a few hundred MB of modules and compiles for several minutes; after that the binary is
 * reused and an install only refreshes the two small plugin files. `npm test` runs this first.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";

/** The Go module that pins the CLI (go.mod, go.sum, tools.go), in the sources (this file runs from dist/test/pulumi). */
const MODULE_DIR = path.resolve(__dirname, "..", "..", "..", "test", "pulumi");
const CLI_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi";

/** The version of `@pulumi/pulumi` the project runs, which the CLI must match. */
export const PULUMI_VERSION = (JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as { version: string })
  .version;

export function cliDirectory(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return process.env.PULUMI_WECHAT_CLI_DIR || path.join(cache, "pulumi-wechat", `pulumi-v${PULUMI_VERSION}`);
}

/** The installed `pulumi` executable, or undefined when `npm run pulumi:install` has not run here. */
export function installedCli(): string | undefined {
  const dir = cliDirectory();
  const complete = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"].every((file) =>
    fs.existsSync(path.join(dir, file)),
  );
  return complete ? path.join(dir, "pulumi") : undefined;
}

const say = (line: string) => process.stderr.write(`pulumi:install: ${line}\n`);

function runWithProgress(command: string, args: string[], env: NodeJS.ProcessEnv, what: string) {
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd: MODULE_DIR, env, stdio: ["ignore", "inherit", "pipe"] });
    const tail: string[] = [];
    readline.createInterface({ input: child.stderr! }).on("line", (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
    });
    const ticker = setInterval(() => say(`${what} (${Math.round((Date.now() - started) / 1000)} s)`), 15000);
    child.once("error", (error) => {
      clearInterval(ticker);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.once("exit", (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args[0]} failed (exit ${code}):\n${tail.join("\n")}`));
    });
  });
}

function checkGo(): void {
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.error || go.status !== 0) {
    throw new Error(
      "the Pulumi CLI is built from Go modules, and `go` is not on PATH: install Go 1.25 or newer (the Go module proxy must be reachable), then run `npm run pulumi:install` again",
    );
  }
  say(`using ${go.stdout.trim()}`);
}

/** Checks that go.mod pins the CLI at the version of `@pulumi/pulumi` (an SDK upgrade must upgrade both). */
function checkPinnedVersion(): void {
  const goMod = fs.readFileSync(path.join(MODULE_DIR, "go.mod"), "utf8");
  const pinned = /github\.com\/pulumi\/pulumi\/pkg\/v3 (v\S+)/.exec(goMod)?.[1];
  if (pinned !== `v${PULUMI_VERSION}`) {
    throw new Error(`test/pulumi/go.mod pins the CLI at ${pinned}, but the project runs @pulumi/pulumi ${PULUMI_VERSION}: update go.mod`);
  }
}

async function buildCli(dir: string): Promise<void> {
  checkGo();
  checkPinnedVersion();
  const env = { ...process.env, CGO_ENABLED: "0", GOFLAGS: `${process.env.GOFLAGS ?? ""} -mod=readonly`.trim() };
  say("downloading Go modules (a few hundred MB the first time)");
  await runWithProgress("go", ["mod", "download"], env, "still downloading");
  say(`building ${CLI_PACKAGE}@v${PULUMI_VERSION} (several minutes on 2 cores the first time)`);
  const partial = path.join(dir, `pulumi.partial-${process.pid}`);
  const ldflags = `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_VERSION}`;
  await runWithProgress("go", ["build", "-o", partial, "-ldflags", ldflags, CLI_PACKAGE], env, "still building");
  const version = spawnSync(partial, ["version"], { encoding: "utf8" }).stdout.trim();
  if (version !== `v${PULUMI_VERSION}`) throw new Error(`the built CLI says it is ${JSON.stringify(version)}, not v${PULUMI_VERSION}`);
  fs.renameSync(partial, path.join(dir, "pulumi"));
}

/** Writes a file only when its content differs, through a temporary file, so a running CLI never sees half of it. */
function writeIfChanged(file: string, content: string | Buffer, mode: number): void {
  if (fs.existsSync(file) && fs.readFileSync(file).equals(Buffer.from(content))) return;
  const temporary = `${file}.${process.pid}`;
  fs.writeFileSync(temporary, content, { mode });
  fs.renameSync(temporary, file);
}

function installPlugins(dir: string): void {
  const languageHost = fs.readFileSync(path.join(__dirname, "languageHost.js"));
  writeIfChanged(path.join(dir, "pulumi-language-nodejs.js"), languageHost, 0o644);
  writeIfChanged(
    path.join(dir, "pulumi-language-nodejs"),
    '#!/bin/sh\nexec node "$(dirname "$0")/pulumi-language-nodejs.js" "$@"\n',
    0o755,
  );
  const dynamicProvider = fs.readFileSync(require.resolve("@pulumi/pulumi/pulumi-resource-pulumi-nodejs"));
  writeIfChanged(path.join(dir, "pulumi-resource-pulumi-nodejs"), dynamicProvider, 0o755);
}

async function installCli(): Promise<string> {
  const dir = cliDirectory();
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(path.join(dir, "pulumi"))) say(`Pulumi CLI v${PULUMI_VERSION} already built in ${dir}`);
  else await buildCli(dir);
  installPlugins(dir);
  return path.join(dir, "pulumi");
}

if (require.main === module) {
  installCli().then(
    (pulumi) => say(`ready: ${pulumi}`),
    (error: Error) => {
      say(`failed: ${error.message}`);
      process.exit(1);
    },
  );
}
