/**
 * The package as users get it: `npm pack` (which compiles it, as `npm publish` would), the tarball installed into a
 * fresh project next to @pulumi/pulumi, a strict TypeScript program type-checked against it, then run through the
 * real Pulumi CLI (the engine harness where the CLI is not installed) against the WeChat API emulator.
 *
 * What it proves: the tarball holds exactly what users need; the declarations are real (a wrong program fails to
 * type-check); the serialized provider stored in every resource's state is the short `require("pulumi-wechat/...")`
 * form as installed from npm, and still serializes in this repository's npm-link layout (and pnpm's, when pnpm can
 * be fetched); credentials never reach state; a second `up` changes nothing.
 *
 * Set PULUMI_WECHAT_KEEP_PACKAGE_TEST=1 to keep the temporary projects for inspection.
 */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { WeChatEmulator } from "./emulator/server";
import { RunEngineOptions, RunEngineResult, readState, runEngine, stateFileOf } from "./harness";
import { DEMO_CREDENTIALS, accountCredentials } from "./support/emulator";
import { PROVIDER_MODULES, ROOT, assertProvider, wechatResources } from "./support/state";

const root = ROOT;
const fixture = path.join(root, "test", "fixtures", "installed");
const PULUMI_VERSION = "3.248.0";
const TYPESCRIPT_VERSION = "6.0.3";
const TYPES_NODE_VERSION = "20.19.43";
/** `__provider` as users install the package (the README: under 300 bytes); in other layouts a stub of about 2.4 KB. */
const MAX_PROVIDER_BYTES = 300;
const MAX_STUB_BYTES = 2600;

interface Command {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit (the caller decides). */
function run(file: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Command> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: process.env }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr}`));
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

async function mustRun(file: string, args: string[], cwd: string, timeoutMs?: number): Promise<Command> {
  const result = await run(file, args, cwd, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(" ")} (in ${cwd}) exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const npx = process.platform === "win32" ? "npx.cmd" : "npx";

/** The `__provider` Pulumi writes for a provider object that is the `module.exports` of `moduleName`. */
function requireForm(moduleName: string): string {
  return [
    "exports.handler = __f0;",
    `const provider = require(${JSON.stringify(moduleName)});`,
    "",
    "function __f0() {",
    "  return (function() {",
    "    with({ this: undefined, arguments: undefined }) {",
    "",
    "return () => provider;",
    "",
    "    }",
    "  }).apply(undefined, undefined).apply(this, arguments);",
    "}",
    "",
  ].join("\n");
}

interface DynamicResource {
  urn: string;
  type: string;
  provider: string;
  bytes: number;
}

/**
 * Every resource of the package in the state file, with its serialized provider, which must require the provider's
 * module by package name and nothing else, with no path of this machine (inputs and outputs), at most `maxBytes`.
 */
function dynamicResources(stateFile: string, maxBytes: number): DynamicResource[] {
  const state = readState(stateFile);
  assert.ok(state, `no state file at ${stateFile}`);
  return wechatResources(state).map((r) => {
    assertProvider(r, maxBytes);
    const provider = r.inputs.__provider as string;
    return { urn: r.urn, type: r.type, provider, bytes: Buffer.byteLength(provider) };
  });
}

/** The program's output as a user would see it, for failure messages. */
function shown(result: RunEngineResult): string {
  // eslint-disable-next-line no-control-regex
  const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");
  return `exit ${result.code}\n${plain(result.stdout)}\n${plain(result.stderr)}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function sizes(resources: DynamicResource[]): string {
  const byType = new Map<string, number>();
  for (const r of resources) byType.set(r.type.split(":").pop()!, r.bytes);
  return [...byType].map(([type, bytes]) => `${type} ${bytes} B`).join(", ");
}

/** Sets up a fresh project directory with the installed fixture program. */
function writeProject(dir: string, dependencies: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  const manifest = { name: path.basename(dir), private: true, main: "index.ts", dependencies };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  for (const file of ["Pulumi.yaml", "index.ts", "tsconfig.json"]) fs.copyFileSync(path.join(fixture, file), path.join(dir, file));
}

/**
 * Wrong programs: the fixture with one change each. Every one must fail to type-check, on the changed line (or the
 * object literal it belongs to), which shows that the package's declarations constrain what programs may write.
 */
const MUTATIONS: { name: string; from: string; to: string }[] = [
  { name: "unknown option name", from: 'optionName: "location_report",', to: 'optionName: "nope",' },
  { name: "boolean option value", from: "optionValue: 2,", to: "optionValue: true," },
  { name: "another resource's delete behavior", from: 'deleteBehavior: "reset",', to: 'deleteBehavior: "disable",' },
  { name: "text mode 3", from: "textMode: 2,", to: "textMode: 3," },
  { name: "misspelt callback property", from: 'functionName: "onText"', to: 'functionNam: "onText"' },
  {
    name: "output of the wrong type at depth",
    from: 'env: envId, functionName: pulumi.output("onEnterSession")',
    to: 'env: pulumi.output(42), functionName: pulumi.output("onEnterSession")',
  },
  { name: "missing authorizerAppId", from: '  authorizerAppId,\n  optionName: "location_report",', to: '  optionName: "location_report",' },
  { name: "output read as the wrong type", from: "locationValue: pulumi.Output<string>", to: "locationValue: pulumi.Output<number>" },
];

interface Diagnostic {
  file: string;
  line: number;
  code: string;
  message: string;
}

function parseDiagnostics(output: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const match of output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/gm)) {
    diagnostics.push({ file: match[1]!, line: Number(match[2]), code: match[3]!, message: match[4]! });
  }
  return diagnostics;
}

describe("the package as users install it", function () {
  this.timeout(300_000);

  const keep = process.env.PULUMI_WECHAT_KEEP_PACKAGE_TEST === "1";
  let work = "";
  let project = "";
  let tarball = "";
  let packedFiles: string[] = [];
  let packedManifest: Record<string, unknown> = {};
  let emulator: WeChatEmulator;
  let baseUrl = "";
  let pnpmProject = "";
  let pnpmInstall: Promise<Command> | undefined;
  let typecheck: Promise<{ command: Command; files: Record<string, { line: number }> }> | undefined;

  /** Stack config for the demo account's own credentials (the secret passed as a secret). */
  function engineOptions(cwd: string, stack: string, extra: Partial<RunEngineOptions> = {}): RunEngineOptions {
    const { config, secrets } = accountCredentials(baseUrl);
    const authorizerAppId = DEMO_CREDENTIALS.appId;
    const programs = { "wechat-installed:authorizerAppId": authorizerAppId, "wechat-quickstart:authorizerAppId": authorizerAppId };
    return { command: "up", cwd, stack, config: { ...config, ...programs }, secrets, transpileOnly: true, ...extra };
  }

  before(async function () {
    const started = Date.now();
    // Not named after the package: see the test of a project whose path contains "pulumi-wechat".
    work = fs.mkdtempSync(path.join(os.tmpdir(), "wechat-package-test-"));
    // `npm pack` runs `prepare` (the package build), as `npm publish` does.
    const pack = await mustRun(npm, ["pack", "--json", "--pack-destination", work], root);
    const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, packed!.filename);
    const packedAt = Date.now();
    packedFiles = packed!.files.map((f) => f.path).sort();

    project = path.join(work, "npm-project");
    writeProject(project, {});
    pnpmProject = path.join(work, "pnpm-project");
    writeProject(pnpmProject, {
      "pulumi-wechat": `file:${tarball}`,
      "@pulumi/pulumi": PULUMI_VERSION,
      typescript: TYPESCRIPT_VERSION,
      "@types/node": TYPES_NODE_VERSION,
    });
    // Both installs at once. pnpm comes from the npm registry: on a machine that cannot fetch it, its tests skip.
    pnpmInstall = run(npx, ["--yes", "pnpm@9", "install", "--prefer-offline", "--reporter=silent"], pnpmProject, 180_000).catch(
      (error: Error) => ({ code: -1, stdout: "", stderr: error.message }),
    );
    await mustRun(
      npm,
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        tarball,
        `@pulumi/pulumi@${PULUMI_VERSION}`,
        `typescript@${TYPESCRIPT_VERSION}`,
        `@types/node@${TYPES_NODE_VERSION}`,
      ],
      project,
    );
    console.log(`      set-up: npm pack ${seconds(packedAt - started)}, npm install ${seconds(Date.now() - packedAt)}`);
    const installedManifest = path.join(project, "node_modules", "pulumi-wechat", "package.json");
    packedManifest = JSON.parse(fs.readFileSync(installedManifest, "utf8")) as Record<string, unknown>;

    emulator = new WeChatEmulator();
    emulator.addDemo();
    baseUrl = await emulator.start();
    // tsc is the slowest step: it runs while the engine tests do, and its tests collect the result.
    typecheckOnce().catch(() => undefined);
  });

  after(async function () {
    await emulator?.stop();
    await pnpmInstall;
    await typecheck?.catch(() => undefined);
    if (!work) return;
    if (keep) console.log(`      kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  });

  it("packs the compiled sdk/ and provider/ (JavaScript and declarations), README, LICENSE and CHANGELOG, nothing else", function () {
    const expected = ["package.json", "README.md", "LICENSE", "CHANGELOG.md"];
    for (const dir of ["sdk", "provider"]) {
      for (const file of fs.readdirSync(path.join(root, dir))) {
        if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
        const base = `dist/${dir}/${file.slice(0, -".ts".length)}`;
        expected.push(`${base}.js`, `${base}.d.ts`);
      }
    }
    assert.deepEqual(packedFiles, expected.sort());
    console.log(`      ${path.basename(tarball)}: ${packedFiles.length} files`);
  });

  it("declares what users need: @pulumi/pulumi as a peer, Node.js >= 20.19, an exports map of packed files", function () {
    assert.deepEqual(packedManifest.peerDependencies, { "@pulumi/pulumi": ">=3.248.0 <4" });
    assert.deepEqual(packedManifest.engines, { node: ">=20.19" });
    assert.equal(packedManifest.license, "Apache-2.0");
    const dependencies = packedManifest.dependencies as Record<string, string>;
    assert.ok(!("@pulumi/pulumi" in dependencies), "@pulumi/pulumi must not be a dependency (one copy: the program's)");
    const exportsMap = packedManifest.exports as Record<string, string | Record<string, string>>;
    assert.deepEqual(Object.keys(exportsMap).sort(), [
      ".",
      "./package.json",
      "./provider",
      "./provider/authorizer-option",
      "./provider/callback-config",
    ]);
    for (const [subpath, target] of Object.entries(exportsMap)) {
      const targets = typeof target === "string" ? [target] : Object.values(target);
      for (const t of targets)
        assert.ok(fs.existsSync(path.join(project, "node_modules", "pulumi-wechat", t)), `exports ${subpath} → ${t} is not in the package`);
    }
    // Every module a serialized provider requires resolves from the project, as it must inside the provider host.
    for (const moduleName of Object.values(PROVIDER_MODULES)) require.resolve(moduleName, { paths: [project] });
  });

  it("runs through the engine: settings applied, tiny require-form providers, no credentials in state, second up changes nothing", async function () {
    const backendDir = path.join(project, ".pulumi-state");
    const stateFile = stateFileOf({ cwd: project, stack: "dev", backendDir });
    // The first run type-checks the program the way Pulumi's runtime does (ts-node), as users run it by default.
    const first = await runEngine(engineOptions(project, "dev", { backendDir, transpileOnly: false }));
    assert.equal(first.code, 0, shown(first));
    assert.deepEqual(first.summary!.changes, { create: 4, update: 0, replace: 0, delete: 0, same: 0 }, shown(first));

    assert.deepEqual(emulator.options(DEMO_CREDENTIALS.appId), { location_report: "2", voice_recognize: "1", customer_service: "1" });
    assert.deepEqual(emulator.callbackConfig(DEMO_CREDENTIALS.appId), {
      function_config: {
        enable: true,
        callbacks: [
          { msgType: "text", event: "", env: "prod-6gni9ity244a6ea3", functionName: "onText", enable: true },
          {
            msgType: "event",
            event: "user_enter_tempsession",
            env: "prod-6gni9ity244a6ea3",
            functionName: "onEnterSession",
            enable: false,
          },
        ],
      },
      container_config: { enable: true, qbase_env: "prod-6gni9ity244a6ea3", qbase_container_path: "/wechat-push", text_mode: 2 },
    });

    const resources = dynamicResources(stateFile, MAX_PROVIDER_BYTES);
    assert.equal(resources.length, 4);
    for (const r of resources) assert.equal(r.provider, requireForm(PROVIDER_MODULES[r.type]!), r.urn);
    console.log(`      __provider installed from the tarball (npm): ${sizes(resources)}`);

    const stateText = fs.readFileSync(stateFile, "utf8");
    const tokens = new Set(emulator.requests.map((r) => r.token).filter((t): t is string => !!t));
    assert.ok(tokens.size > 0, "the emulator saw no token");
    for (const secret of [DEMO_CREDENTIALS.appSecret, ...tokens]) {
      assert.ok(!stateText.includes(secret), `the state file contains a credential (${secret.slice(0, 4)}…)`);
    }
    assert.ok(!/access_token/i.test(stateText), "the state file mentions access_token");

    emulator.clearRequests();
    const second = await runEngine(engineOptions(project, "dev", { backendDir }));
    assert.equal(second.code, 0, shown(second));
    assert.deepEqual(second.summary!.changes, { create: 0, update: 0, replace: 0, delete: 0, same: 4 }, shown(second));
    assert.equal(emulator.callCounts().set, 0, "the second up sent a setting");
  });

  it("serializes in this repository's npm-link layout (node_modules/pulumi-wechat is a symlink to the repository)", async function () {
    assert.ok(
      fs.lstatSync(path.join(root, "node_modules", "pulumi-wechat")).isSymbolicLink(),
      "node_modules/pulumi-wechat should link to the repository",
    );
    const linked = new WeChatEmulator();
    linked.addDemo();
    const linkedUrl = await linked.start();
    try {
      const options = engineOptions(path.join(root, "examples", "quickstart"), "dev", { backendDir: path.join(work, "linked-state") });
      const stateFile = stateFileOf(options);
      options.config!["wechat:apiBaseUrl"] = linkedUrl;
      const result = await runEngine(options);
      assert.equal(result.code, 0, shown(result));
      // The stub requires the same module by package name at run time: no path of this machine, no module contents.
      const resources = dynamicResources(stateFile, MAX_STUB_BYTES);
      assert.ok(resources.length > 0);
      console.log(`      __provider in the npm-link layout (this repository): ${sizes(resources)}`);
    } finally {
      await linked.stop();
    }
  });

  /** One tsc run over the program and every wrong variant (tsc is the slow part), shared by the next two tests. */
  function typecheckOnce() {
    typecheck ??= (async () => {
      const source = fs.readFileSync(path.join(project, "index.ts"), "utf8");
      const files: Record<string, { line: number }> = {};
      MUTATIONS.forEach(({ name, from, to }, i) => {
        const at = source.indexOf(from);
        assert.ok(
          at >= 0 && source.indexOf(from, at + 1) < 0,
          `the fixture must contain ${JSON.stringify(from)} exactly once (mutation "${name}")`,
        );
        const file = `wrong-${i + 1}.ts`;
        fs.writeFileSync(path.join(project, file), source.slice(0, at) + to + source.slice(at + from.length));
        files[file] = { line: source.slice(0, at).split("\n").length };
      });
      const config = { extends: "./tsconfig.json", files: ["index.ts", ...Object.keys(files)] };
      fs.writeFileSync(path.join(project, "tsconfig.wrong.json"), JSON.stringify(config, null, 2));
      const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
      const command = await run(process.execPath, [tsc, "-p", "tsconfig.wrong.json", "--pretty", "false"], project);
      return { command, files };
    })();
    return typecheck;
  }

  it("type-checks a strict program (every input, inputs from other resources' outputs, skipLibCheck off)", async function () {
    const { command } = await typecheckOnce();
    const diagnostics = parseDiagnostics(command.stdout);
    const outsideWrong = diagnostics.filter((d) => !/^wrong-\d+\.ts$/.test(d.file));
    assert.deepEqual(outsideWrong, [], `the program or a declaration file failed to type-check:\n${command.stdout}${command.stderr}`);
  });

  it("rejects wrong programs at type-check time (the declarations are real)", async function () {
    const { command, files } = await typecheckOnce();
    const diagnostics = parseDiagnostics(command.stdout);
    MUTATIONS.forEach(({ name }, i) => {
      const file = `wrong-${i + 1}.ts`;
      const line = files[file]!.line;
      const mine = diagnostics.filter((d) => d.file === file);
      assert.ok(
        // The error is on the changed line or, for a property of an object literal, at the start of the statement.
        mine.some((d) => d.line >= line - 6 && d.line <= line + 1),
        `"${name}" (${file}, line ${line}) should fail to type-check there; tsc said:\n${mine.map((d) => `${d.line}: ${d.code} ${d.message}`).join("\n") || "nothing"}`,
      );
    });
  });

  it('serializes when the project\'s path contains "pulumi-wechat" (e.g. ~/src/pulumi-wechat-infra)', async function () {
    // Pulumi's serializer finds the package.json of a module by the first occurrence of the package name in the
    // module's absolute path; a project directory named after the package comes first.
    // The npm project, moved for the duration of this test (a move is instant; a copy of node_modules is not).
    const named = path.join(work, "pulumi-wechat-infra");
    fs.renameSync(project, named);
    const other = new WeChatEmulator();
    other.addDemo();
    const otherUrl = await other.start();
    try {
      const options = engineOptions(named, "dev", { backendDir: path.join(work, "named-state") });
      const stateFile = stateFileOf(options);
      options.config!["wechat:apiBaseUrl"] = otherUrl;
      const result = await runEngine(options);
      assert.equal(result.code, 0, `the program failed in ${named}:\n${shown(result)}`);
      const resources = dynamicResources(stateFile, MAX_STUB_BYTES);
      assert.ok(resources.length > 0);
      console.log(`      __provider in a project under .../pulumi-wechat-infra: ${sizes(resources)}`);
    } finally {
      await other.stop();
      fs.renameSync(named, project);
    }
  });

  describe("declarations, under the tsconfig of each `pulumi new typescript` template", function () {
    // The template before March 2026, today's, and node16; library checks on in all (no skipLibCheck).
    const common = { strict: true, noEmit: true, pretty: false, noImplicitReturns: true, forceConsistentCasingInFileNames: true };
    const templates = [
      [
        "TypeScript 5, the older template: module commonjs, moduleResolution node, no esModuleInterop",
        "typescript-5",
        { target: "es2016", module: "commonjs", moduleResolution: "node" },
      ],
      [
        "TypeScript 5, today's template: nodenext",
        "typescript-5",
        { target: "es2020", lib: ["es2020"], module: "nodenext", moduleResolution: "nodenext" },
      ],
      ["TypeScript 5, node16", "typescript-5", { target: "es2020", lib: ["es2020"], module: "node16", moduleResolution: "node16" }],
      [
        "TypeScript 6, today's template: nodenext",
        "typescript",
        { target: "es2020", lib: ["es2020"], module: "nodenext", moduleResolution: "nodenext" },
      ],
    ] as const;
    templates.forEach(([name, compiler, options], i) => {
      it(`${name}: the program type-checks, and no zod declaration is read`, async function () {
        const file = `tsconfig.template-${i + 1}.json`;
        fs.writeFileSync(path.join(project, file), JSON.stringify({ compilerOptions: { ...common, ...options }, files: ["index.ts"] }));
        const tsc = path.join(root, "node_modules", compiler, "bin", "tsc");
        const result = await run(process.execPath, [tsc, "-p", file, "--listFiles"], project);
        assert.deepEqual(parseDiagnostics(result.stdout), [], `tsc failed:\n${result.stdout}${result.stderr}`);
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const read = result.stdout.split("\n").filter((line) => line.includes(`${path.sep}node_modules${path.sep}`));
        assert.ok(
          read.some((line) => line.includes(`${path.sep}pulumi-wechat${path.sep}`)),
          "the package's declarations were read",
        );
        assert.deepEqual(
          read.filter((line) => line.includes(`${path.sep}zod${path.sep}`)),
          [],
          "zod stays an implementation detail",
        );
      });
    });
  });

  it("serializes in a monorepo whose one @pulumi/pulumi is in a parent directory's node_modules", async function () {
    // Pulumi's serializer resolves packages from its own location, the parent's node_modules, where pulumi-wechat is
    // not. The root shares the tools too (TypeScript, which Pulumi's runner loads from the program's directory up).
    const monorepo = path.join(work, "monorepo");
    fs.mkdirSync(monorepo);
    fs.writeFileSync(path.join(monorepo, "package.json"), JSON.stringify({ name: "monorepo", private: true }));
    const shared = [`@pulumi/pulumi@${PULUMI_VERSION}`, `typescript@${TYPESCRIPT_VERSION}`, `@types/node@${TYPES_NODE_VERSION}`];
    await mustRun(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", ...shared], monorepo);
    const app = path.join(monorepo, "app");
    writeProject(app, {});
    await mustRun(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--legacy-peer-deps", tarball], app);
    assert.ok(!fs.existsSync(path.join(app, "node_modules", "@pulumi", "pulumi")), "the SDK is the parent's only");
    const layout = new WeChatEmulator();
    layout.addDemo();
    const layoutUrl = await layout.start();
    try {
      const options = engineOptions(app, "dev", { backendDir: path.join(work, "monorepo-state") });
      options.config!["wechat:apiBaseUrl"] = layoutUrl;
      const result = await runEngine(options);
      assert.equal(result.code, 0, `the program failed in the monorepo layout:\n${shown(result)}`);
      const resources = dynamicResources(stateFileOf(options), MAX_STUB_BYTES);
      assert.equal(resources.length, 4);
      for (const r of resources)
        assert.ok(r.provider.includes(JSON.stringify(PROVIDER_MODULES[r.type]!)), `${r.urn} requires its module by name`);
      assert.equal(layout.options(DEMO_CREDENTIALS.appId).location_report, "2");
      console.log(`      __provider in the monorepo layout: ${sizes(resources)}`);
    } finally {
      await layout.stop();
    }
  });

  describe("in a pnpm project", function () {
    let pnpmEmulator: WeChatEmulator | undefined;
    let pnpmUrl = "";

    before(async function () {
      const install = await pnpmInstall!;
      if (install.code !== 0) {
        console.log(
          `      skipped: could not install with pnpm (exit ${install.code}): ${install.stderr.trim().split("\n").slice(-3).join(" / ")}`,
        );
        this.skip();
      }
      pnpmEmulator = new WeChatEmulator();
      pnpmEmulator.addDemo();
      pnpmUrl = await pnpmEmulator.start();
    });

    after(async function () {
      await pnpmEmulator?.stop();
    });

    it("serializes the provider (pulumi-wechat lives under node_modules/.pnpm, linked from node_modules/pulumi-wechat)", async function () {
      const options = engineOptions(pnpmProject, "dev", { backendDir: path.join(pnpmProject, ".pulumi-state") });
      const stateFile = stateFileOf(options);
      options.config!["wechat:apiBaseUrl"] = pnpmUrl;
      const result = await runEngine(options);
      assert.equal(result.code, 0, `the program failed in the pnpm layout:\n${shown(result)}`);
      const resources = dynamicResources(stateFile, MAX_STUB_BYTES);
      assert.equal(resources.length, 4);
      for (const r of resources) assert.ok(!r.provider.includes(".pnpm"), `${r.urn}: the serialized provider names pnpm's store path`);
      console.log(`      __provider in the pnpm layout: ${sizes(resources)}`);
      assert.deepEqual(pnpmEmulator!.options(DEMO_CREDENTIALS.appId), {
        location_report: "2",
        voice_recognize: "1",
        customer_service: "1",
      });
    });

    it("type-checks the program with Pulumi's own TypeScript runner (ts-node): the declarations need none of zod's", async function () {
      const options = engineOptions(pnpmProject, "typecheck", {
        command: "preview",
        transpileOnly: false,
        backendDir: path.join(pnpmProject, ".pulumi-state"),
      });
      options.config!["wechat:apiBaseUrl"] = pnpmUrl;
      const result = await runEngine(options);
      const tsErrors = shown(result).match(/error TS\d+:.*$/gm) ?? [];
      assert.deepEqual(tsErrors, [], `Pulumi's ts-node rejected the program in the pnpm layout:\n${shown(result)}`);
      assert.equal(result.code, 0, shown(result));
    });
  });
});
