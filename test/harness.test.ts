// Specification of what the engine harness (test/harness) does that the parity suite (test/parity.test.ts, the same
// scenarios through the harness and the real CLI) does not show: its configuration, its state file and output, its
// parallelism, components, stack references and checkpoints. It runs against the throwaway fixture
// (test/fixtures/throwaway), whose provider keeps its "remote" state in a JSON file, with `engine: "harness"`.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  RunEngineOptions,
  RunEngineResult,
  SECRET_SIG,
  SECRET_SIG_KEY,
  StackState,
  readState,
  runEngine,
  spawnEngine,
  stateFileOf,
} from "./harness";

const FIXTURE = path.resolve(__dirname, "..", "..", "test", "fixtures", "throwaway");

interface Remote {
  items: { [id: string]: { key: string; value: string; token?: string; version: number } };
  log: { op: string; key: string; id: string }[];
  maxInFlight: number;
  maxChecksInFlight?: number;
}

/** One stack of the fixture: its own file backend and "remote" file in a temporary directory. */
class Sandbox {
  constructor(
    readonly stack = "dev",
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-test-")),
  ) {}

  get remoteFile(): string {
    return path.join(this.dir, "remote.json");
  }

  get stateFile(): string {
    return stateFileOf(this.options("up"));
  }

  options(command: RunEngineOptions["command"], env: Record<string, string> = {}): RunEngineOptions {
    const base = { THROWAWAY_REMOTE: this.remoteFile, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
    return {
      command,
      cwd: FIXTURE,
      stack: this.stack,
      backendDir: path.join(this.dir, "state"),
      engine: "harness",
      env: { ...base, ...env },
    };
  }

  run(command: RunEngineOptions["command"], env: Record<string, string> = {}, extra: Partial<RunEngineOptions> = {}) {
    return runEngine({ ...this.options(command, env), ...extra });
  }

  remote(): Remote {
    return JSON.parse(fs.readFileSync(this.remoteFile, "utf8")) as Remote;
  }

  /** The fixture's items in the state, by name. */
  items(state: StackState | undefined = readState(this.stateFile)): Map<string, StackState["resources"][number]> {
    const items = (state?.resources ?? []).filter((r) => r.type === "pulumi-nodejs:dynamic/throwaway:Item");
    return new Map(items.map((r) => [r.urn.split("::").pop()!, r]));
  }
}

/** Asserts success and returns the summary. */
function ok(result: RunEngineResult) {
  assert.strictEqual(result.code, 0, `run failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  assert.ok(result.summary, `no JSON summary on the last line:\n${result.stdout}`);
  return result.summary;
}

describe("engine harness", function () {
  const sandboxes: Sandbox[] = [];
  const sandbox = (stack?: string, dir?: string) => sandboxes[sandboxes.push(new Sandbox(stack, dir)) - 1];
  after(() => sandboxes.forEach((s) => fs.rmSync(s.dir, { recursive: true, force: true })));

  describe("preview", function () {
    const s = sandbox();
    let result: RunEngineResult;
    before(async () => {
      // The one run that type-checks the program (PULUMI_NODEJS_TYPESCRIPT without transpile-only).
      result = await s.run("preview", { THROWAWAY_COUNT: "2", PULUMI_NODEJS_TRANSPILE_ONLY: "" });
    });

    it("answers the program with the checked inputs, and unknown outputs for what the provider computes", function () {
      const summary = ok(result);
      assert.deepStrictEqual(summary.changes, { create: 2, update: 0, replace: 0, delete: 0, same: 0 });
      assert.deepStrictEqual(summary.outputs.values, ["v1", "v1"]);
      assert.deepStrictEqual(summary.outputs.ids, ["[unknown]", "[unknown]"]);
    });

    it("calls no Create and writes no state", function () {
      assert.strictEqual(fs.existsSync(s.remoteFile), false);
      assert.strictEqual(fs.existsSync(s.stateFile), false);
    });

    it("reads the stack's configuration from Pulumi.<stack>.yaml, keys namespaced with the project's name", function () {
      assert.strictEqual(result.summary!.outputs.greeting, "hello from Pulumi.dev.yaml");
    });

    it("puts one JSON summary on the last line of stdout", function () {
      const parsed = JSON.parse(result.stdout.trimEnd().split("\n").pop()!) as Record<string, unknown>;
      assert.deepStrictEqual(Object.keys(parsed.changes as object).sort(), ["create", "delete", "replace", "same", "update"]);
      assert.strictEqual(parsed.engine, "harness");
    });
  });

  describe("configuration", function () {
    it("can be overridden with --config", async function () {
      const summary = ok(await sandbox().run("preview", { THROWAWAY_COUNT: "0" }, { config: { "throwaway:greeting": "hi" } }));
      assert.strictEqual(summary.outputs.greeting, "hi");
    });

    it("decrypts `secure:` values of Pulumi.<stack>.yaml with the file's salt, and keeps them secret", async function () {
      const s = sandbox("secure");
      const result = await s.run("up", { THROWAWAY_COUNT: "1" });
      ok(result);
      assert.strictEqual(s.remote().items["id-k-item-0"].token, "tok-from-the-stack-file-5e1d");
      assert.strictEqual(result.summary!.outputs.tokenOut, "[secret]");
    });
  });

  describe("state and output", function () {
    const s = sandbox();
    const token = "tok-7f3a9c1e-never-print-me";
    let result: RunEngineResult;
    before(async () => {
      result = await s.run("up", { THROWAWAY_COUNT: "1" }, { secrets: { token }, verbose: true });
    });

    it("is the real CLI's checkpoint, where the CLI keeps it", function () {
      ok(result);
      assert.strictEqual(s.stateFile, path.join(s.dir, "state", ".pulumi", "stacks", "throwaway", "dev.json"));
      const file = JSON.parse(fs.readFileSync(s.stateFile, "utf8")) as {
        version: number;
        checkpoint: { stack: string; latest: Record<string, unknown> };
      };
      assert.strictEqual(file.version, 3);
      assert.strictEqual(file.checkpoint.stack, "organization/throwaway/dev");
      assert.deepStrictEqual(Object.keys(file.checkpoint.latest), ["manifest", "secrets_providers", "resources", "metadata"]);
    });

    it("keeps secrets sealed in the file and out of the output, and they open with the run's passphrase", function () {
      for (const text of [fs.readFileSync(s.stateFile, "utf8"), result.stdout, result.stderr])
        assert.strictEqual(text.includes(token), false);
      const stored = s.items().get("item-0")!.outputs.token as Record<string, unknown>;
      assert.strictEqual(stored[SECRET_SIG_KEY], SECRET_SIG);
      assert.match(stored.ciphertext as string, /^v1:/);
      const opened = s.items(readState(s.stateFile, { decrypt: true })).get("item-0")!;
      assert.deepStrictEqual(opened.outputs.token, { [SECRET_SIG_KEY]: SECRET_SIG, value: token });
    });
  });

  describe("a partial failure", function () {
    it("keeps the resource created but not initialized, and the next up finishes it", async function () {
      const s = sandbox();
      const failed = await s.run("up", { THROWAWAY_COUNT: "1", THROWAWAY_FAIL_INIT: "k-item-0" });
      assert.strictEqual(failed.code, 1);
      assert.deepStrictEqual(s.items().get("item-0")!.initErrors, ["the item did not become ready"]);
      const summary = ok(await s.run("up", { THROWAWAY_COUNT: "1" }));
      assert.strictEqual(summary.changes.update, 1, "an unchanged resource with init errors is updated");
      assert.strictEqual(s.items().get("item-0")!.initErrors, undefined);
    });
  });

  describe("deletes", function () {
    it("remove every resource, components included, and leave a stack without resources", async function () {
      const s = sandbox();
      ok(await s.run("up", { THROWAWAY_COUNT: "3", THROWAWAY_GROUP: "1" }));
      const summary = ok(await s.run("destroy"));
      assert.strictEqual(summary.changes.delete, 3);
      assert.deepStrictEqual(s.remote().items, {});
      assert.deepStrictEqual(readState(s.stateFile)!.resources, []);
    });

    it("run in parallel, at most --parallel at a time", async function () {
      const s = sandbox();
      ok(await s.run("up", { THROWAWAY_COUNT: "6" }));
      fs.writeFileSync(s.remoteFile, JSON.stringify({ ...s.remote(), maxInFlight: 0 }));
      ok(await s.run("destroy", { THROWAWAY_DELAY_MS: "300" }, { parallel: 2 }));
      assert.strictEqual(s.remote().maxInFlight, 2);
    });
  });

  describe("stack references", function () {
    it("read the outputs of a stack of the same file backend, by organization/project/stack", async function () {
      const producer = sandbox("producer");
      ok(await producer.run("up", { THROWAWAY_COUNT: "3" }));
      const summary = ok(await sandbox("consumer", producer.dir).run("up", { THROWAWAY_COUNT: "0", THROWAWAY_STACKREF: "producer" }));
      assert.strictEqual(summary.outputs.refCount, 3);
    });
  });

  describe("steps", function () {
    it("have Check and Diff run one resource at a time, as the CLI's step generator runs them", async function () {
      const s = sandbox();
      ok(await s.run("up", { THROWAWAY_COUNT: "4", THROWAWAY_CHECK_DELAY_MS: "100" }));
      assert.strictEqual(s.remote().maxChecksInFlight, 1);
    });

    it("are each in the state before the program hears of them, so a run killed at any point resumes", async function () {
      const s = sandbox();
      const env = { THROWAWAY_COUNT: "10", THROWAWAY_CHAIN: "1", THROWAWAY_DELAY_MS: "100" };
      const { child, result } = spawnEngine(s.options("up", env));
      // Kill once a few items exist: each was registered only after the one before it was answered.
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (fs.existsSync(s.remoteFile) && Object.keys(s.remote().items).length >= 4) {
            clearInterval(poll);
            child.kill("SIGKILL");
            resolve();
          }
        }, 20);
      });
      assert.strictEqual((await result).signal, "SIGKILL");
      const created = Object.keys(s.remote().items).length;
      const saved = s.items();
      for (let i = 0; i < created - 1; i++) assert.ok(saved.has(`item-${i}`), `item-${i} was answered, so it is in the state`);
      const summary = ok(await s.run("up", env));
      assert.strictEqual(summary.changes.create + summary.changes.same, 10);
      assert.strictEqual(ok(await s.run("up", env)).changes.same, 10);
    });
  });
});

describe("choosing the engine (npm run engine)", function () {
  this.timeout(120_000);
  const noCli = { PULUMI_WECHAT_CLI_DIR: path.join(os.tmpdir(), "pulumi-wechat-no-cli-here") };
  const options = (engine?: string): RunEngineOptions => ({
    command: "preview",
    cwd: FIXTURE,
    stack: "dev",
    backendDir: fs.mkdtempSync(path.join(os.tmpdir(), "harness-engine-")),
    engine,
    env: {
      ...noCli,
      THROWAWAY_REMOTE: path.join(os.tmpdir(), "unused-remote.json"),
      PULUMI_NODEJS_TRANSPILE_ONLY: "true",
      WECHAT_ENGINE: "",
    },
  });

  it("fails with what to run when the real CLI is asked for and not built, rather than fall back", async function () {
    const result = await runEngine(options("pulumi"));
    assert.notStrictEqual(result.code, 0);
    assert.match(result.stderr, /the Pulumi CLI is not installed here: run `npm run pulumi:install`/);
    assert.strictEqual(result.summary?.engine, "pulumi");
    assert.strictEqual(result.summary?.changes.create, 0);
  });

  it("runs the harness when none is asked for and the CLI is not built, and says so in the summary", async function () {
    assert.strictEqual(ok(await runEngine(options())).engine, "harness");
  });
});
