// Specification of the engine harness (test/harness), run against the throwaway fixture (test/fixtures/throwaway):
// the real program runtime and dynamic-provider host, driven through the CLI exactly as a user would run it.
// The fixture's provider keeps its "remote" state in a JSON file; assertions look at that file, at the state file and
// at the --json summary. Within a describe the its run in order, each one step of a lifecycle.
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
const ITEM = "pulumi-nodejs:dynamic/throwaway:Item";

interface Remote {
  items: { [id: string]: { key: string; value: string; token?: string; version: number } };
  log: { op: string; key: string; id: string }[];
  maxInFlight: number;
}

/** One stack of the fixture: its own state file and "remote" file in a temporary directory. */
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

  run(
    command: RunEngineOptions["command"],
    env: Record<string, string> = {},
    extra: Partial<RunEngineOptions> = {},
  ): Promise<RunEngineResult> {
    return runEngine({ ...this.options(command, env), ...extra });
  }

  options(command: RunEngineOptions["command"], env: Record<string, string> = {}): RunEngineOptions {
    return {
      command,
      cwd: FIXTURE,
      stack: this.stack,
      backendDir: path.join(this.dir, "state"),
      engine: "harness",
      env: { THROWAWAY_REMOTE: this.remoteFile, PULUMI_NODEJS_TRANSPILE_ONLY: "true", ...env },
    };
  }

  remote(): Remote {
    return JSON.parse(fs.readFileSync(this.remoteFile, "utf8")) as Remote;
  }

  state(): StackState {
    const state = readState(this.stateFile);
    assert.ok(state, `no state file at ${this.stateFile}`);
    return state;
  }

  /** The custom resources in the state, by resource name. */
  items(): Map<string, StackState["resources"][number]> {
    return new Map(
      this.state()
        .resources.filter((r) => r.custom)
        .map((r) => [r.urn.split("::").pop()!, r]),
    );
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function items(specs: { name: string; key?: string; value?: string; deleteBeforeReplace?: boolean }[]): Record<string, string> {
  return { THROWAWAY_ITEMS: JSON.stringify(specs) };
}

/** Asserts success and returns the summary. */
function ok(result: RunEngineResult) {
  assert.strictEqual(result.code, 0, `run failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  assert.ok(result.summary, `no JSON summary on the last line:\n${result.stdout}`);
  return result.summary;
}

function changes(c: Partial<{ create: number; update: number; replace: number; delete: number; same: number }>) {
  return { create: 0, update: 0, replace: 0, delete: 0, same: 0, ...c };
}

describe("engine harness", function () {
  const sandboxes: Sandbox[] = [];
  const sandbox = (stack?: string, dir?: string) => {
    const s = new Sandbox(stack, dir);
    sandboxes.push(s);
    return s;
  };
  after(() => sandboxes.forEach((s) => s.cleanup()));

  let previewed: RunEngineResult;

  describe("preview", function () {
    const s = sandbox();
    let result: RunEngineResult;
    before(async () => {
      // The one run that type-checks the program (PULUMI_NODEJS_TYPESCRIPT without transpile-only); the
      // configuration and --json specs below read it too.
      result = previewed = await s.run("preview", { THROWAWAY_COUNT: "2", PULUMI_NODEJS_TRANSPILE_ONLY: "" });
    });

    it("plans a create for every new resource", function () {
      const summary = ok(result);
      assert.deepStrictEqual(summary.changes, changes({ create: 2 }));
      assert.match(result.stdout, new RegExp(`\\+ create ${ITEM} item-0`));
      assert.match(result.stdout, /\+ 2 to create/);
    });

    it("calls no Create and writes neither the remote nor the state file", function () {
      assert.strictEqual(fs.existsSync(s.remoteFile), false);
      assert.strictEqual(fs.existsSync(s.stateFile), false);
    });

    it("answers the program with the checked inputs, and unknown outputs the provider would compute", function () {
      assert.deepStrictEqual(result.summary!.outputs.values, ["v1", "v1"]);
      assert.deepStrictEqual(result.summary!.outputs.ids, ["[unknown]", "[unknown]"]);
      assert.deepStrictEqual(result.summary!.outputs.versions, ["[unknown]", "[unknown]"]);
    });
  });

  describe("up", function () {
    const s = sandbox();

    it("creates every resource and records it in the state", async function () {
      const summary = ok(await s.run("up", { THROWAWAY_COUNT: "2" }));
      assert.deepStrictEqual(summary.changes, changes({ create: 2 }));
      assert.deepStrictEqual(Object.keys(s.remote().items).sort(), ["id-k-item-0", "id-k-item-1"]);
      assert.ok(s.stateFile.includes(`${path.sep}throwaway${path.sep}dev.`), "the state lives in the file backend's layout");
      const item0 = s.items().get("item-0")!;
      assert.strictEqual(item0.type, ITEM);
      assert.strictEqual(item0.id, "id-k-item-0");
      assert.strictEqual(item0.inputs.value, "v1");
      assert.strictEqual(typeof item0.inputs.__provider, "string", "inputs keep __provider as Pulumi stores it");
      assert.strictEqual(item0.outputs.version, 1);
      assert.deepStrictEqual(s.state().outputs.ids, ["id-k-item-0", "id-k-item-1"]);
      assert.deepStrictEqual(summary.outputs.ids, ["id-k-item-0", "id-k-item-1"]);
    });

    it("changes nothing on a second run: every resource is the same", async function () {
      const before = s.remote().log.length;
      const summary = ok(await s.run("up", { THROWAWAY_COUNT: "2" }));
      assert.deepStrictEqual(summary.changes, changes({ same: 2 }));
      assert.strictEqual(s.remote().log.length, before, "no provider write");
    });

    it("updates in place when a value changes", async function () {
      const summary = ok(await s.run("up", items([{ name: "item-0", value: "v2" }, { name: "item-1" }])));
      assert.deepStrictEqual(summary.changes, changes({ update: 1, same: 1 }));
      assert.deepStrictEqual(s.remote().items["id-k-item-0"], { key: "k-item-0", value: "v2", version: 2 });
      const item0 = s.items().get("item-0")!;
      assert.strictEqual(item0.id, "id-k-item-0");
      assert.strictEqual(item0.outputs.value, "v2");
      assert.strictEqual(item0.outputs.version, 2);
    });

    it("replaces when the identity changes: creates the new one, then deletes the old one", async function () {
      const logStart = s.remote().log.length;
      const summary = ok(
        await s.run(
          "up",
          items([
            { name: "item-0", value: "v2" },
            { name: "item-1", key: "other" },
          ]),
        ),
      );
      assert.deepStrictEqual(summary.changes, changes({ replace: 1, same: 1 }));
      const remote = s.remote();
      assert.deepStrictEqual(Object.keys(remote.items).sort(), ["id-k-item-0", "id-other"]);
      assert.deepStrictEqual(
        remote.log.slice(logStart).map((l) => `${l.op} ${l.id}`),
        ["create id-other", "delete id-k-item-1"],
      );
      const entries = s.state().resources.filter((r) => r.urn.endsWith("::item-1"));
      assert.strictEqual(entries.length, 1, "the old half is gone from the state");
      assert.strictEqual(entries[0].id, "id-other");
      assert.strictEqual(entries[0].delete, undefined);
    });

    it("deletes the old one first when the resource asks for deleteBeforeReplace", async function () {
      const logStart = s.remote().log.length;
      const summary = ok(
        await s.run(
          "up",
          items([
            { name: "item-0", value: "v2" },
            { name: "item-1", key: "third", deleteBeforeReplace: true },
          ]),
        ),
      );
      assert.deepStrictEqual(summary.changes, changes({ replace: 1, same: 1 }));
      assert.deepStrictEqual(
        s
          .remote()
          .log.slice(logStart)
          .map((l) => `${l.op} ${l.id}`),
        ["delete id-other", "create id-third"],
      );
    });

    it("deletes resources the program no longer registers", async function () {
      const summary = ok(await s.run("up", items([{ name: "item-0", value: "v2" }])));
      assert.deepStrictEqual(summary.changes, changes({ delete: 1, same: 1 }));
      assert.deepStrictEqual(Object.keys(s.remote().items), ["id-k-item-0"]);
      assert.deepStrictEqual([...s.items().keys()], ["item-0"]);
    });
  });

  describe("refresh", function () {
    const s = sandbox();
    let refreshed: RunEngineResult;
    before(async () => {
      ok(await s.run("up", { THROWAWAY_COUNT: "3" }));
      const remote = s.remote();
      remote.items["id-k-item-1"].value = "changed out of band";
      delete remote.items["id-k-item-2"];
      fs.writeFileSync(s.remoteFile, JSON.stringify(remote));
      refreshed = await s.run("refresh", { THROWAWAY_COUNT: "3" });
    });

    it("reports a resource whose outputs changed as an update, and one that is gone as a delete", function () {
      const summary = ok(refreshed);
      assert.deepStrictEqual(summary.changes, changes({ update: 1, delete: 1, same: 1 }));
      const state = s.items();
      assert.strictEqual(state.get("item-1")!.outputs.value, "changed out of band");
      assert.strictEqual(state.has("item-2"), false);
    });

    it("does not run the program", function () {
      
      assert.strictEqual(refreshed.summary!.programExitCode, undefined);
    });

    it("is followed by an up that puts the remote back as the program says", async function () {
      const summary = ok(await s.run("up", { THROWAWAY_COUNT: "3" }));
      assert.deepStrictEqual(summary.changes, changes({ create: 1, update: 1, same: 1 }));
      const remote = s.remote();
      assert.strictEqual(remote.items["id-k-item-1"].value, "v1");
      assert.ok(remote.items["id-k-item-2"]);
      assert.deepStrictEqual(ok(await s.run("up", { THROWAWAY_COUNT: "3" })).changes, changes({ same: 3 }));
    });
  });

  describe("destroy", function () {
    it("deletes every resource, children before their component, and leaves an empty state file", async function () {
      const s = sandbox();
      ok(await s.run("up", { THROWAWAY_COUNT: "3", THROWAWAY_GROUP: "1" }));
      assert.ok(s.state().resources.some((r) => r.type === "throwaway:index:Group"));
      const summary = ok(await s.run("destroy"));
      assert.deepStrictEqual(summary.changes, changes({ delete: 3 }));
      assert.deepStrictEqual(s.remote().items, {});
      const state = s.state();
      assert.deepStrictEqual(state.resources, []);
      assert.deepStrictEqual(state.outputs, {});
      assert.deepStrictEqual(summary.outputs, {});
    });

    it("runs independent deletes in parallel, at most --parallel at a time", async function () {
      const s = sandbox();
      ok(await s.run("up", { THROWAWAY_COUNT: "6" }));
      const remote = s.remote();
      remote.maxInFlight = 0;
      fs.writeFileSync(s.remoteFile, JSON.stringify(remote));
      const started = Date.now();
      const summary = ok(await s.run("destroy", { THROWAWAY_DELAY_MS: "300" }, { parallel: 2 }));
      assert.strictEqual(summary.changes.delete, 6);
      assert.strictEqual(s.remote().maxInFlight, 2);
      assert.ok(Date.now() - started >= 900, "6 deletes of 300 ms, 2 at a time, take at least 900 ms");
    });
  });

  describe("failures", function () {
    const s = sandbox();
    before(async () => {
      ok(await s.run("up", { THROWAWAY_COUNT: "2" }));
    });

    it("a provider error fails the run, names the resource, and keeps its last good state", async function () {
      const result = await s.run("up", { THROWAWAY_COUNT: "2", THROWAWAY_VALUE: "v2", THROWAWAY_FAIL: "k-item-1" });
      assert.notStrictEqual(result.code, 0);
      const summary = result.summary!;
      const failure = summary.failed.find((f) => f.urn.endsWith("::item-1"));
      assert.ok(failure, JSON.stringify(summary.failed));
      assert.match(failure.message, /update failed: injected update failure for k-item-1/);
      assert.match(result.stdout, /injected update failure for k-item-1/);
      const state = s.items();
      assert.strictEqual(state.get("item-1")!.outputs.value, "v1", "the failed resource keeps its previous state");
      assert.strictEqual(state.get("item-0")!.outputs.value, "v2", "an independent resource went ahead");
      assert.strictEqual(s.remote().items["id-k-item-1"].value, "v1");
    });

    it("a partial failure (ErrorResourceInitFailed) keeps the resource, and the next up finishes it", async function () {
      const result = await s.run("up", { THROWAWAY_COUNT: "3", THROWAWAY_VALUE: "v2", THROWAWAY_FAIL_INIT: "k-item-2" });
      assert.notStrictEqual(result.code, 0);
      assert.ok(result.summary!.failed.some((f) => f.urn.endsWith("::item-2") && /not initialized/.test(f.message)));
      const item2 = s.items().get("item-2")!;
      assert.strictEqual(item2.id, "id-k-item-2");
      assert.deepStrictEqual(item2.initErrors, ["the item did not become ready"]);

      const summary = ok(await s.run("up", { THROWAWAY_COUNT: "3", THROWAWAY_VALUE: "v2" }));
      assert.deepStrictEqual(summary.changes, changes({ update: 1, same: 2 }), "item-2 finished");
      assert.strictEqual(s.items().get("item-2")!.initErrors, undefined);
    });

    it("check failures print `property: reason`, fail the run and call no Create", async function () {
      const logStart = s.remote().log.length;
      const result = await s.run("up", items([{ name: "item-new", value: "invalid value" }]));
      assert.notStrictEqual(result.code, 0);
      assert.match(result.stdout, /value: "invalid value" is not an acceptable value/);
      assert.strictEqual(s.remote().log.length, logStart);
      assert.strictEqual(s.items().has("item-new"), false);
      assert.strictEqual(s.items().size, 3, "a failed program deletes nothing");
    });
  });

  describe("secrets", function () {
    const s = sandbox();
    const token = "tok-7f3a9c1e-never-print-me";
    let result: RunEngineResult;
    before(async () => {
      result = await s.run("up", { THROWAWAY_COUNT: "1" }, { secrets: { token }, verbose: true });
    });

    it("reach the provider as plain values, as the real engine sends them to the dynamic provider", function () {
      ok(result);
      assert.strictEqual(s.remote().items["id-k-item-0"].token, token);
    });

    it("never appear in the state file or in the output", function () {
      assert.strictEqual(fs.readFileSync(s.stateFile, "utf8").includes(token), false);
      assert.strictEqual(result.stdout.includes(token), false);
      assert.strictEqual(result.stderr.includes(token), false);
      assert.strictEqual(result.summary!.outputs.tokenOut, "[secret]");
    });

    it("are stored marked as secrets, and decrypt with the run's passphrase", function () {
      const stored = s.items().get("item-0")!;
      for (const where of [stored.inputs.token, stored.outputs.token, s.state().outputs.tokenOut]) {
        assert.strictEqual((where as Record<string, unknown>)[SECRET_SIG_KEY], SECRET_SIG);
        assert.strictEqual(typeof (where as Record<string, unknown>).ciphertext, "string");
      }
      const decrypted = readState(s.stateFile, { decrypt: true })!;
      assert.deepStrictEqual(decrypted.outputs.tokenOut, { [SECRET_SIG_KEY]: SECRET_SIG, value: token });
    });
  });

  describe("configuration", function () {
    let overridden: RunEngineResult;
    before(async () => {
      overridden = await sandbox().run("preview", { THROWAWAY_COUNT: "0" }, { config: { "throwaway:greeting": "hi" } });
    });

    it("comes from Pulumi.<stack>.yaml, keys namespaced with the project name", function () {
      // The preview above ran with the file's value.
      assert.strictEqual(previewed.summary!.outputs.greeting, "hello from Pulumi.dev.yaml");
    });

    it("can be overridden with --config", function () {
      assert.strictEqual(ok(overridden).outputs.greeting, "hi");
    });
  });

  describe("stack references", function () {
    it("read the outputs of the stack whose state file is beside this one", async function () {
      const producer = sandbox("producer");
      ok(await producer.run("up", { THROWAWAY_COUNT: "3" }));
      const consumer = sandbox("consumer", producer.dir);
      const summary = ok(await consumer.run("up", { THROWAWAY_COUNT: "0", THROWAWAY_STACKREF: "producer" }));
      assert.strictEqual(summary.outputs.refCount, 3);
    });
  });

  describe("interruption", function () {
    it("a run killed with SIGKILL leaves a readable state, and the next up converges", async function () {
      const s = sandbox();
      const env = { THROWAWAY_COUNT: "20", THROWAWAY_DELAY_MS: "100" };
      const { child, result } = spawnEngine({ ...s.options("up", env), parallel: 3 });
      // Kill once some (not all) creates have reached the remote.
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          const created = fs.existsSync(s.remoteFile) ? Object.keys(s.remote().items).length : 0;
          if (created >= 6) {
            clearInterval(poll);
            child.kill("SIGKILL");
            resolve();
          }
        }, 20);
      });
      const killed = await result;
      assert.strictEqual(killed.signal, "SIGKILL");
      const partial = fs.existsSync(s.stateFile) ? s.items().size : 0;
      assert.ok(partial < 20, `state has ${partial} of 20 resources`);

      const summary = ok(await s.run("up", { THROWAWAY_COUNT: "20" }));
      assert.strictEqual(summary.changes.create + summary.changes.same, 20);
      assert.strictEqual(s.items().size, 20);
      assert.strictEqual(Object.keys(s.remote().items).length, 20);
      assert.deepStrictEqual(ok(await s.run("up", { THROWAWAY_COUNT: "20" })).changes, changes({ same: 20 }));
    });
  });

  describe("--json", function () {
    it("puts one JSON object with changes and outputs on the last line of stdout", function () {
      const last = previewed.stdout.trimEnd().split("\n").pop()!;
      const parsed = JSON.parse(last) as Record<string, unknown>;
      assert.deepStrictEqual(Object.keys(parsed.changes as object).sort(), ["create", "delete", "replace", "same", "update"]);
      assert.strictEqual(typeof parsed.outputs, "object");
      assert.deepStrictEqual(parsed.failed, []);
      assert.strictEqual(parsed.engine, "harness");
    });
  });
});
