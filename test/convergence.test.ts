/**
 * Convergence of a third-party platform's fleet through the whole engine path: examples/platform-fleet with 200
 * accounts (three AuthorizerOptions and one CallbackConfig each: 800 resources), run by the real Pulumi CLI against
 * the emulator while it fails 10% of all calls at random, token endpoints included.
 *
 * The steps share one stack and build on each other:
 *   1. `up` under random faults: every account ends up holding exactly what is declared;
 *   2. a second `up` changes nothing and calls nothing;
 *   3. every setting changes while some accounts fail for good (48001). (a) Without --continue-on-error the engine
 *      stops at the first failure: the up fails, accounts it had not reached hold what they held, and the state
 *      claims nothing the accounts do not hold. (b) With --continue-on-error the others converge, and every failing
 *      account is named with the 48001 advice;
 *   4. once the fault is lifted, the next `up` finishes the job;
 *   5. `pulumi up` killed with SIGKILL midway leaves the stack locked: the next up refuses until `pulumi cancel`,
 *      then converges past the interrupted operations, and an `up` after that changes nothing.
 *
 * The figures for the closing note (calls, retries, faults injected, mismatches, wall time per up) are printed as
 * the steps go and as a table at the end. Nothing here asserts on time.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FaultHandle, FleetAccount, WeChatEmulator } from "./emulator/server";
import { RunEngineOptions, RunEngineResult, chooseEngine, readState, runEngine, spawnEngine, stateFileOf } from "./harness";
import { cancelUpdate } from "./pulumi/run";
import { DEMO_AUTHORIZED, DEMO_CREDENTIALS, platformCredentials } from "./support/emulator";
import {
  AccountSnapshot,
  FLEET_PROGRAM,
  FLEET_PROJECT,
  FleetEntry,
  assertStateComplete,
  declareFleet,
  declared,
  expectedUrns,
  fleetMismatches,
  fleetStateMismatches,
  mismatches,
  snapshot,
  writeAccountsFile,
} from "./support/fleet";
import { commandOf, descendants, waitForExit } from "./support/processes";
import { recorded, wechatResources } from "./support/state";

const STACK = "convergence";
/** The demo account plus 199 fleet accounts: 200 accounts, 800 resources. Step 3 adds 10 more. */
const FLEET_SIZE = 199;
const ADDED_IN_STEP_3 = 10;
const FAULT_RATE = 0.1;
const FAULT_SEED = 20261122;
/** A share of the random faults hits after the request was applied (the answer is lost, the change is not). */
const AFTER_APPLY_SHARE = 0.25;

/**
 * Retry settings. Every request independently fails with probability p = 0.1, and every fault kind the emulator
 * draws (-1, -1000, 45011, HTTP 500/502/503, dropped connection) is retried, so one call fails for good only when all
 * of its attempts fail: p^maxAttempts = 0.1^10 = 1e-10. The whole suite makes about 5,000 calls (the printed
 * figures), so the chance that any call of any step exhausts its attempts is at most 5e3 × 1e-10 = 5e-7: the outcome
 * is deterministic for every practical purpose, although which requests the seeded generator hits depends on the
 * order in which concurrent requests arrive. A 2 ms base keeps the backoff (full jitter, 2 ms × 2^(n-1), ×4 for
 * 45011) to a few milliseconds per retry; the rare fourth retry of a 45011 waits at most 2 × 4 × 8 = 64 ms.
 */
const RETRY_CONFIG = { "wechat:maxAttempts": "10", "wechat:retryBaseDelayMs": "2" };

/** How long the emulator holds its answers while step 5 kills the CLI: longer than that takes. */
const HOLD_ANSWERS_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The account a resource's URN names (every resource of the fleet program is named after its account). */
const appIdOf = (urn: string) => /wx[0-9a-f]{16}/.exec(urn.split("::").pop()!)![0];

/** Waits until the file has not changed for a second (bounded: a minute at most). */
async function untilUnchanged(file: string): Promise<void> {
  const version = () => {
    const stat = fs.statSync(file);
    return `${stat.mtimeMs}:${stat.size}`;
  };
  let last = version();
  for (let unchanged = 0, polls = 0; unchanged < 10 && polls < 600; polls++) {
    await sleep(100);
    const now = version();
    unchanged = now === last ? unchanged + 1 : 0;
    last = now;
  }
}

/** The set endpoints, and the CloudBase endpoints (those of permission set 49/64). */
const SET_PATHS = /^\/(cgi-bin\/component\/set_authorizer_option|tcb\/setcallbackconfig)$/;
const CLOUDBASE_PATHS = /^\/tcb\//;

/** One `up` (or killed `up`) as the closing note reports it. */
interface Figure {
  step: string;
  exit: string;
  wallMs: number;
  set: number;
  get: number;
  token: number;
  /** Requests the emulator failed on purpose (random or injected). */
  faulted: number;
  /** Faulted requests of the transient kinds: each one is retried by the client. */
  retried: number;
  /** Faults injected during this up, by label. */
  faults: Record<string, number>;
  changes: string;
  /** Settings that differ from the declared ones after the up (for the accounts expected to converge). */
  mismatches: number;
}

describe("convergence: a 200-account fleet through the engine, under faults", function () {
  // One up of 800 resources takes minutes on a loaded 2-core machine; this is a guard, not a measure.
  this.timeout(1_800_000);

  let emulator: WeChatEmulator;
  let baseUrl = "";
  let dir = "";
  let accountsFile = "";
  let stateFile = "";
  let fleet: FleetAccount[] = [];
  /** What the program currently declares. */
  let accounts: FleetEntry[] = [];
  const figures: Figure[] = [];
  let broken = false;

  const demo = DEMO_CREDENTIALS;
  const options = (extra: Partial<RunEngineOptions> = {}): RunEngineOptions => {
    const { config, secrets } = platformCredentials(baseUrl, [DEMO_AUTHORIZED, ...fleet], RETRY_CONFIG);
    return {
      command: "up",
      cwd: FLEET_PROGRAM,
      stack: STACK,
      backendDir: dir,
      transpileOnly: true,
      config: { [`${FLEET_PROJECT}:accountsFile`]: accountsFile, ...config },
      secrets,
      ...extra,
    };
  };

  const declare = (round: number, appIds: readonly string[]) => {
    accounts = declareFleet(appIds, round);
    writeAccountsFile(accountsFile, accounts);
  };

  const state = () => {
    const loaded = readState(stateFile, { decrypt: true });
    assert.ok(loaded, "the state file exists");
    return loaded;
  };

  /** Runs `run` as one measured up: request log cleared first, figures recorded and printed after. */
  async function measured(
    step: string,
    run: () => Promise<RunEngineResult>,
    converging: () => readonly FleetEntry[] = () => accounts,
  ): Promise<{ result: RunEngineResult; figure: Figure }> {
    emulator.clearRequests();
    const faultsBefore = emulator.faultCounts();
    const started = Date.now();
    const result = await run();
    const wallMs = Date.now() - started;
    const calls = emulator.callCounts();
    const faultsAfter = emulator.faultCounts();
    const faults: Record<string, number> = {};
    for (const [label, count] of Object.entries(faultsAfter)) {
      if (count - (faultsBefore[label] ?? 0) > 0) faults[label] = count - (faultsBefore[label] ?? 0);
    }
    const changes = result.summary?.changes;
    const figure: Figure = {
      step,
      exit: result.signal ?? String(result.code),
      wallMs,
      set: calls.set,
      get: calls.get,
      token: calls.token,
      faulted: emulator.filter({ fault: true }).length,
      retried: emulator.requests.filter((r) => r.fault !== undefined && r.fault !== "errcode:48001").length,
      faults,
      changes: changes ? `+${changes.create} ~${changes.update} -${changes.delete} =${changes.same}` : "(killed)",
      mismatches: fleetMismatches(emulator, converging()).length,
    };
    figures.push(figure);
    console.log(`      [${step}] ${JSON.stringify(figure)}`);
    return { result, figure };
  }

  const up = (step: string, converging?: () => readonly FleetEntry[], extra?: Partial<RunEngineOptions>) =>
    measured(step, () => runEngine(options(extra)), converging);

  /**
   * Tokens are shared (design rule 9) across both resource types in the real provider host: per up, the platform's
   * component token is fetched once and each account's token at most once (faulted attempts are retries of the same
   * fetch and do not count). Answers the accounts whose token was fetched.
   */
  function assertOneTokenFetchPerAccount(): Set<string> {
    assert.equal(emulator.filter({ path: "/cgi-bin/component/api_component_token", fault: false }).length, 1, "one component token fetch");
    const fetched = emulator.filter({ path: "/cgi-bin/component/api_authorizer_token", fault: false }).map((r) => r.appId!);
    const twice = fetched.filter((appId, i) => fetched.indexOf(appId) !== i);
    assert.deepEqual(twice, [], "no account's token was fetched twice");
    return new Set(fetched);
  }

  const explain = (result: RunEngineResult) => `exit ${result.code}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`;

  before(async function () {
    // Steps 3 and 5 assert what the real engine does (fail-fast, the stack's lock); the harness has neither.
    if (chooseEngine() !== "pulumi") this.skip();
    emulator = new WeChatEmulator();
    emulator.addDemo();
    fleet = emulator.addFleet(demo.componentAppId, FLEET_SIZE);
    baseUrl = await emulator.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-wechat-convergence-"));
    accountsFile = path.join(dir, "accounts.json");
    stateFile = stateFileOf({ cwd: FLEET_PROGRAM, stack: STACK, backendDir: dir });
    declare(0, [demo.appId, ...fleet.map((a) => a.appId)]);
    assert.equal(accounts.length, 200);
    emulator.setRandomFaults({ rate: FAULT_RATE, seed: FAULT_SEED, afterApplyShare: AFTER_APPLY_SHARE });
  });

  beforeEach(function () {
    // The steps build on each other: after a failed one, the rest would only report its consequences.
    if (broken) this.skip();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") broken = true;
  });

  after(async () => {
    if (figures.length > 0) {
      console.log("\n      Convergence figures (per up):");
      console.table(
        figures.map((f) => ({
          step: f.step,
          exit: f.exit,
          "wall s": (f.wallMs / 1000).toFixed(1),
          set: f.set,
          get: f.get,
          token: f.token,
          faulted: f.faulted,
          retried: f.retried,
          changes: f.changes,
          mismatches: f.mismatches,
        })),
      );
      const total = (key: "set" | "get" | "token" | "faulted" | "retried") => figures.reduce((sum, f) => sum + f[key], 0);
      const injected: Record<string, number> = {};
      for (const f of figures) for (const [label, n] of Object.entries(f.faults)) injected[label] = (injected[label] ?? 0) + n;
      console.log(
        `      totals: set ${total("set")}, get ${total("get")}, token ${total("token")}, calls ${total("set") + total("get") + total("token")}; ` +
          `faulted requests ${total("faulted")} (retried ${total("retried")}); faults injected ${JSON.stringify(injected)}; ` +
          `final mismatches ${figures[figures.length - 1].mismatches}`,
      );
    }
    await emulator?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("1. converges: after one up under 10% random faults every account holds exactly what is declared", async () => {
    const { result, figure } = await up("1 up, 10% faults");
    assert.equal(result.code, 0, explain(result));
    assert.deepEqual(result.summary?.failed, []);
    assert.equal(result.summary?.changes.create, 800);
    assert.ok(figure.retried > 0, "the emulator did fail some requests (the faults are on)");
    assert.ok(emulator.filter({ path: /token/, fault: true }).length > 0, "token requests were faulted too");
    assert.equal(assertOneTokenFetchPerAccount().size, accounts.length, "every account's token was fetched, once");
    assert.deepEqual(fleetMismatches(emulator, accounts), []);
    const current = state();
    assertStateComplete(current, STACK, accounts);
    assert.deepEqual(fleetStateMismatches(current, emulator), []);
  });

  it("2. a second up reports zero changes and makes zero set calls (no call at all: check and diff are local)", async () => {
    const { result, figure } = await up("2 up again");
    assert.equal(result.code, 0, explain(result));
    const { create, update, replace, delete: deleted, same } = result.summary!.changes;
    assert.deepEqual({ create, update, replace, deleted, same }, { create: 0, update: 0, replace: 0, deleted: 0, same: 800 });
    assert.equal(figure.set, 0);
    assert.equal(figure.set + figure.get + figure.token, 0);
    assert.deepEqual(fleetMismatches(emulator, accounts), []);
  });

  /** The accounts that fail for good in step 3, by how they fail. */
  const failing = {
    wholeAccount: [] as string[],
    cloudbaseOnly: [] as string[],
    newSetsOnly: [] as string[],
    newWholeAccount: [] as string[],
  };
  const handles: FaultHandle[] = [];
  const failingIds = () => [...failing.wholeAccount, ...failing.cloudbaseOnly, ...failing.newSetsOnly, ...failing.newWholeAccount];
  /** What every account held before step 3, and the accounts expected to converge in it. */
  let before3 = new Map<string, AccountSnapshot>();
  const healthy = () => accounts.filter((a) => !failingIds().includes(a.appId));
  /** The failed resources of the package and the appId each one names (the failure of the stack is bookkeeping). */
  const failedAccounts = (result: RunEngineResult) =>
    result.summary!.failed.filter((f) => f.urn.includes("::pulumi-nodejs:dynamic/")).map((f) => ({ ...f, appId: appIdOf(f.urn) }));
  const assertAdvice = (failed: ReturnType<typeof failedAccounts>) => {
    for (const f of failed) {
      assert.match(f.message, new RegExp(`for authorizer ${f.appId} failed: errcode 48001 `), f.message);
      assert.match(f.message, /permission set 49 or 64/, f.message);
    }
  };

  it("3a. with some accounts failing for good (48001), an up without --continue-on-error stops at the first failure: accounts it had not reached hold what they held, and the state claims only what the accounts hold", async () => {
    // Ten new accounts join the fleet, and every setting of every account changes.
    fleet = emulator.addFleet(demo.componentAppId, FLEET_SIZE + ADDED_IN_STEP_3);
    const existing = fleet.slice(0, FLEET_SIZE).map((a) => a.appId);
    const added = fleet.slice(FLEET_SIZE).map((a) => a.appId);
    const appIds = [demo.appId, ...existing, ...added];
    before3 = new Map(appIds.map((appId) => [appId, snapshot(emulator, appId)]));
    declare(1, appIds);
    // Existing accounts: four refuse every call, the token included (a platform that lost the account's grant);
    // three refuse only the CloudBase calls (permission set 49/64 missing), so their options still converge.
    failing.wholeAccount = [existing[10], existing[57], existing[123], existing[198]];
    failing.cloudbaseOnly = [existing[3], existing[88], existing[150]];
    // New accounts: three refuse only the sets (create reads the old value, then fails: a partial failure Pulumi
    // keeps), two refuse everything (create fails before it learns anything: nothing to keep).
    failing.newSetsOnly = added.slice(0, 3);
    failing.newWholeAccount = added.slice(3, 5);
    for (const appId of [...failing.wholeAccount, ...failing.newWholeAccount])
      handles.push(emulator.injectFault({ appId, errcode: 48001 }));
    for (const appId of failing.cloudbaseOnly) handles.push(emulator.injectFault({ appId, path: CLOUDBASE_PATHS, errcode: 48001 }));
    for (const appId of failing.newSetsOnly) handles.push(emulator.injectFault({ appId, path: SET_PATHS, errcode: 48001 }));

    const { result } = await up("3a up, 12 accounts 48001", healthy);
    assert.notEqual(result.code, 0, "the up reports the failure");
    const failed = failedAccounts(result);
    assert.ok(failed.length > 0, explain(result));
    const ids = new Set(failingIds());
    assert.deepEqual(
      failed.filter((f) => !ids.has(f.appId)),
      [],
      "only the failing accounts have failed resources",
    );
    assertAdvice(failed);

    // The engine stopped at the first failure: steps it had not started never ran. Every account the emulator heard
    // nothing about this run (not even a token request) holds exactly what it held; that is most of the fleet.
    const reached = new Set(emulator.requests.map((r) => r.appId));
    const untouched = appIds.filter((appId) => !reached.has(appId));
    assert.ok(untouched.length > appIds.length / 2, `the up went on past its first failure: it reached ${reached.size} accounts`);
    for (const appId of untouched) assert.deepEqual(snapshot(emulator, appId), before3.get(appId), `${appId} holds what it held`);
    // The others hold, setting by setting, either the new value or the one they held: nothing half-applied.
    for (const entry of accounts) {
      const changed = new Set(mismatches(entry.appId, declared(entry), snapshot(emulator, entry.appId)).map((line) => line.split(":")[0]));
      const kept = new Set(
        mismatches(entry.appId, before3.get(entry.appId)!, snapshot(emulator, entry.appId)).map((line) => line.split(":")[0]),
      );
      assert.deepEqual(
        [...changed].filter((setting) => kept.has(setting)),
        [],
        `${entry.appId} holds neither its old nor its new settings`,
      );
    }

    // The state claims exactly what was applied; resources the engine never reached are as they were, and the new
    // accounts it never reached have nothing in it.
    const current = state();
    assert.deepEqual(fleetStateMismatches(current, emulator), []);
    const inState = new Set(wechatResources(current).map((r) => r.urn));
    const untouchedExisting = untouched.filter((appId) => !added.includes(appId));
    const untouchedAdded = untouched.filter((appId) => added.includes(appId));
    const missing = expectedUrns(
      STACK,
      untouchedExisting.map((appId) => ({ appId })),
    ).filter((urn) => !inState.has(urn));
    assert.deepEqual(missing, [], "the resources of accounts not reached are still in the state");
    const created = expectedUrns(
      STACK,
      untouchedAdded.map((appId) => ({ appId })),
    ).filter((urn) => inState.has(urn));
    assert.deepEqual(created, [], "the new accounts not reached have nothing in the state");
  });

  it("3b. with --continue-on-error, the others converge, the failing ones are named, and the state claims only what the accounts hold", async () => {
    const ids = new Set(failingIds());
    const { result } = await up("3b up --continue-on-error", healthy, { continueOnError: true });

    // The run fails, and says why, naming every failing account and only those.
    assert.notEqual(result.code, 0, "the up reports the failures");
    const failed = failedAccounts(result);
    assert.deepEqual(
      [...new Set(failed.map((f) => f.appId))].sort(),
      [...ids].sort(),
      "exactly the failing accounts have failed resources",
    );
    assertAdvice(failed);
    // The CLI prints a failure as "error: <the provider's message>"; a create it keeps as a partial failure as
    // "error: 1 error occurred:" and, on the next line, "* <the provider's message>".
    for (const appId of ids) {
      const lead = failing.newSetsOnly.includes(appId) ? "\\t\\* " : "error: ";
      const printed = new RegExp(`${lead}WeChat API \\S+ for authorizer ${appId} failed: errcode 48001 `);
      assert.match(result.stdout, printed, `the output names ${appId}`);
    }
    const failedUrns = new Set(failed.map((f) => f.urn));

    // The others converged; the failing ones hold what they held (the CloudBase-only ones: their new options).
    assert.deepEqual(fleetMismatches(emulator, healthy()), []);
    for (const appId of ids) {
      const expected = { ...before3.get(appId)! };
      if (failing.cloudbaseOnly.includes(appId)) expected.options = declared(accounts.find((a) => a.appId === appId)!).options;
      assert.deepEqual(mismatches(appId, expected, snapshot(emulator, appId)), [], `${appId} holds what it held, nothing half-applied`);
    }

    // The state claims exactly what was applied: every resource in it against the emulator.
    const current = state();
    assert.deepEqual(fleetStateMismatches(current, emulator), []);
    const inState = new Set(wechatResources(current).map((r) => r.urn));
    for (const urn of failedUrns) {
      const appId = appIdOf(urn);
      // A create that failed before reading anything leaves nothing; a partial failure is kept, marked unfinished.
      if (failing.newWholeAccount.includes(appId)) assert.ok(!inState.has(urn), `${urn} was never created`);
      if (failing.newSetsOnly.includes(appId)) {
        const kept = wechatResources(current).find((r) => r.urn === urn);
        assert.ok(kept?.initErrors?.length, `${urn} is kept as a partial failure`);
      }
    }
    // Every resource of the accounts that converged is in the state, finished.
    const finished = new Set(
      wechatResources(current)
        .filter((r) => !r.initErrors?.length && !r.delete)
        .map((r) => r.urn),
    );
    assert.deepEqual(
      expectedUrns(STACK, healthy()).filter((urn) => !finished.has(urn)),
      [],
    );
  });

  it("4. once the fault is lifted, the next up finishes the job", async () => {
    for (const handle of handles.splice(0)) handle.remove();
    const { result } = await up("4 up, fault lifted");
    assert.equal(result.code, 0, explain(result));
    assert.deepEqual(result.summary?.failed, []);
    assert.deepEqual(fleetMismatches(emulator, accounts), []);
    const current = state();
    assertStateComplete(current, STACK, accounts);
    assert.deepEqual(fleetStateMismatches(current, emulator), []);
  });

  /** The interrupted operations the checkpoint records (`pending_operations`): what a killed update left. */
  const pendingOperations = (): { type: string; urn: string }[] => {
    const checkpoint = JSON.parse(fs.readFileSync(stateFile, "utf8")) as {
      checkpoint: { latest?: { pending_operations?: { type: string; resource: { urn: string } }[] } };
    };
    return (checkpoint.checkpoint.latest?.pending_operations ?? []).map((op) => ({ type: op.type, urn: op.resource.urn }));
  };
  let interrupted: { type: string; urn: string }[] = [];

  it("5a. `pulumi up` killed with SIGKILL while sets are landing: the program runtime exits, the provider host outlives it, the checkpoint records the interrupted updates", async () => {
    declare(
      2,
      accounts.map((a) => a.appId),
    );
    let setsAtKill = 0;
    let started: { pid: number; command: string }[] = [];
    const { result: killed } = await measured("5a up, SIGKILL", async () => {
      const { child, result } = spawnEngine(options());
      let exited = false;
      void result.then(() => (exited = true));
      // Bounded: the loop ends when enough sets landed or the run ended by itself (the test then fails).
      while (!exited && emulator.callCounts().set < 200) await sleep(20);
      if (exited) return result;
      // The file backend rewrites the whole checkpoint after every step, and a SIGKILL in the middle of that write can
      // leave the stack unloadable ("failed to load checkpoint: EOF": gocloud.dev's fileblob writes the file's
      // `.attrs` in place before it renames the new checkpoint into place). Kill where an up spends most of its
      // time instead, waiting on WeChat: hold every answer, and wait until the checkpoint stops changing.
      emulator.setLatency(HOLD_ANSWERS_MS);
      await untilUnchanged(stateFile);
      started = descendants(child.pid!).map((pid) => ({ pid, command: commandOf(pid) }));
      const cli = started.find(({ command }) => path.basename(command.split(" ")[0]) === "pulumi");
      assert.ok(cli, `the run started the Pulumi CLI (${JSON.stringify(started)})`);
      setsAtKill = emulator.callCounts().set;
      process.kill(cli.pid, "SIGKILL");
      return result;
    });
    emulator.setLatency(0);
    assert.deepEqual(killed.summary?.failed, [{ urn: "", message: "pulumi up was killed by SIGKILL" }], explain(killed));
    const runtime = started.filter(({ command }) => command.includes("@pulumi/pulumi/cmd/run/"));
    const host = started.filter(({ command }) => command.includes("@pulumi/pulumi/cmd/dynamic-provider/"));
    assert.equal(runtime.length, 1, `the CLI had started the program runtime (${JSON.stringify(started)})`);
    assert.equal(host.length, 1, `the CLI had started the dynamic-provider host (${JSON.stringify(started)})`);
    // The program runtime loses its engine and exits. The dynamic-provider host does not watch the engine: it is
    // still running, and would finish the calls it had started. Nothing else will end it: the test does.
    assert.deepEqual(await waitForExit([runtime[0].pid], 15_000), [], "the program runtime exits");
    assert.deepEqual(await waitForExit([host[0].pid], 0), [host[0].pid], "the dynamic-provider host outlives the CLI");
    const survivors = await waitForExit(
      started.map(({ pid }) => pid),
      0,
    );
    for (const pid of survivors) process.kill(pid, "SIGKILL");
    assert.deepEqual(await waitForExit(survivors, 15_000), []);
    console.log(
      `      killed after ${setsAtKill} set calls; ${fleetMismatches(emulator, accounts).length} settings not yet applied; ended ${survivors.length} processes the CLI left: ${survivors.map((pid) => started.find((p) => p.pid === pid)!.command.slice(-60)).join(", ")}`,
    );
    // The checkpoint still loads, and names the updates the kill interrupted.
    assert.ok(state().resources.length > 0);
    interrupted = pendingOperations();
    assert.ok(interrupted.length > 0, "the checkpoint records the interrupted operations");
    assert.deepEqual([...new Set(interrupted.map((op) => op.type))], ["updating"]);
  });

  it("5b. the next up refuses to start: the killed update still holds the stack's lock, and the CLI says to run `pulumi cancel`", async () => {
    const before = recorded(stateFile);
    const { result } = await up("5b up, stack locked");
    assert.notEqual(result.code, 0);
    assert.equal(result.summary?.failed.length, 1, explain(result));
    assert.match(
      result.summary!.failed[0].message,
      /^the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`\./,
    );
    assert.equal(emulator.callCounts().total, 0, "no call to WeChat");
    assert.deepEqual(recorded(stateFile), before, "the state is as the killed up left it");
  });

  it("5c. after `pulumi cancel`, the next up warns of the interrupted operations and converges", async () => {
    const cancel = cancelUpdate(options());
    assert.equal(cancel.code, 0, cancel.output);
    assert.match(cancel.output, /The currently running update for 'convergence' has been canceled!/);
    const { result: recovered } = await up("5c up after cancel");
    assert.equal(recovered.code, 0, explain(recovered));
    const printed = `${recovered.stdout}\n${recovered.stderr}`;
    assert.match(
      printed,
      new RegExp(`Attempting to deploy or update resources with ${interrupted.length} pending operations from previous deployment`),
    );
    for (const { urn } of interrupted) assert.ok(printed.includes(`* ${urn}, interrupted while updating`), `the warning names ${urn}`);
    assertOneTokenFetchPerAccount();
    assert.deepEqual(recovered.summary?.failed, []);
    assert.deepEqual(fleetMismatches(emulator, accounts), []);
    const current = state();
    assertStateComplete(current, STACK, accounts);
    assert.deepEqual(fleetStateMismatches(current, emulator), []);
    assert.deepEqual(pendingOperations(), [], "the up cleared the interrupted updates");
  });

  it("5d. the up after that changes nothing", async () => {
    const { result: again, figure } = await up("5d up again");
    assert.equal(again.code, 0, explain(again));
    const { create, update, replace, delete: deleted, same } = again.summary!.changes;
    assert.deepEqual(
      { create, update, replace, deleted, same },
      { create: 0, update: 0, replace: 0, deleted: 0, same: accounts.length * 4 },
    );
    assert.equal(figure.set, 0);
    assert.deepEqual(fleetMismatches(emulator, accounts), []);
  });
});
