/**
 * Convergence of a third-party platform's fleet through the whole engine path: examples/platform-fleet with 200
 * accounts (three AuthorizerOptions and one CallbackConfig each: 800 resources), run by the engine harness (Pulumi's
 * own program runtime and dynamic-provider host over gRPC) against the emulator while it fails 10% of all calls at
 * random, token endpoints included.
 *
 * The steps share one stack and build on each other:
 *   1. `up` under random faults: every account ends up holding exactly what is declared;
 *   2. a second `up` changes nothing and calls nothing;
 *   3. every setting changes while some accounts fail for good (48001): the others converge, the failing ones are
 *      named with the 48001 advice, and the state claims nothing the accounts do not hold;
 *   4. once the fault is lifted, the next `up` finishes the job;
 *   5. an `up` killed with SIGKILL midway, then a new `up`, converges, and an `up` after that changes nothing.
 *
 * The figures for the closing note (calls, retries, faults injected, mismatches, wall time per up) are printed as
 * the steps go and as a table at the end. Nothing here asserts on time.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FaultHandle, FleetAccount, WeChatEmulator } from "./emulator/server";
import { RunEngineOptions, RunEngineResult, readState, runEngine, spawnEngine, stateFileOf } from "./harness";
import {
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
import { DEMO_CREDENTIALS } from "./support/emulator";
import { descendants, waitForExit } from "./support/processes";
import { wechatResources } from "./support/state";

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
  this.timeout(600_000);

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
  const refreshTokens = () =>
    JSON.stringify(Object.fromEntries([[demo.appId, demo.authorizerRefreshToken], ...fleet.map((a) => [a.appId, a.refreshToken])]));

  const options = (): RunEngineOptions => ({
    command: "up",
    cwd: FLEET_PROGRAM,
    stack: STACK,
    backendDir: dir,
    transpileOnly: true,
    config: {
      [`${FLEET_PROJECT}:accountsFile`]: accountsFile,
      "wechat:apiBaseUrl": baseUrl,
      "wechat:componentAppId": demo.componentAppId,
      ...RETRY_CONFIG,
    },
    secrets: {
      "wechat:componentAppSecret": demo.componentAppSecret,
      "wechat:componentVerifyTicket": demo.componentVerifyTicket,
      "wechat:authorizerRefreshTokens": refreshTokens(),
    },
  });

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
      faulted: emulator.count({ fault: true }),
      retried: emulator.count((r) => r.fault !== undefined && r.fault !== "errcode:48001"),
      faults,
      changes: changes ? `+${changes.create} ~${changes.update} -${changes.delete} =${changes.same}` : "(killed)",
      mismatches: fleetMismatches(emulator, converging()).length,
    };
    figures.push(figure);
    console.log(`      [${step}] ${JSON.stringify(figure)}`);
    return { result, figure };
  }

  const up = (step: string, converging?: () => readonly FleetEntry[]) => measured(step, () => runEngine(options()), converging);

  /**
   * Tokens are shared (design rule 9) across both resource types in the real provider host: per up, the platform's
   * component token is fetched once and each account's token at most once (faulted attempts are retries of the same
   * fetch and do not count). Answers the accounts whose token was fetched.
   */
  function assertOneTokenFetchPerAccount(): Set<string> {
    assert.equal(emulator.count({ path: "/cgi-bin/component/api_component_token", fault: false }), 1, "one component token fetch");
    const fetched = emulator.filter({ path: "/cgi-bin/component/api_authorizer_token", fault: false }).map((r) => r.appId!);
    const twice = fetched.filter((appId, i) => fetched.indexOf(appId) !== i);
    assert.deepEqual(twice, [], "no account's token was fetched twice");
    return new Set(fetched);
  }

  const explain = (result: RunEngineResult) => `exit ${result.code}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`;

  before(async () => {
    emulator = new WeChatEmulator({ seed: FAULT_SEED });
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
    assert.ok(emulator.count({ path: /token/, fault: true }) > 0, "token requests were faulted too");
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

  it("3. with some accounts failing for good (48001), the others converge, the failing ones are named, and the state claims only what the accounts hold", async () => {
    // Ten new accounts join the fleet, and every setting of every account changes.
    fleet = emulator.addFleet(demo.componentAppId, FLEET_SIZE + ADDED_IN_STEP_3);
    const existing = fleet.slice(0, FLEET_SIZE).map((a) => a.appId);
    const added = fleet.slice(FLEET_SIZE).map((a) => a.appId);
    declare(1, [demo.appId, ...existing, ...added]);
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
    const ids = new Set(failingIds());
    const before = new Map(failingIds().map((appId) => [appId, snapshot(emulator, appId)]));

    const healthy = () => accounts.filter((a) => !ids.has(a.appId));
    const { result } = await up("3 up, 12 accounts 48001", healthy);

    // The run fails, and says why, naming every failing account and only those.
    assert.notEqual(result.code, 0, "the up reports the failures");
    const failed = result.summary!.failed.filter((f) => f.urn.includes("::pulumi-nodejs:dynamic/"));
    const named = new Set(failed.map((f) => /wx[0-9a-f]{16}/.exec(f.urn.split("::").pop()!)?.[0]));
    assert.deepEqual([...named].sort(), [...ids].sort(), "exactly the failing accounts have failed resources");
    for (const f of failed) {
      const appId = /wx[0-9a-f]{16}/.exec(f.urn.split("::").pop()!)![0];
      assert.match(f.message, new RegExp(`for authorizer ${appId} failed: errcode 48001 `), f.message);
      assert.match(f.message, /permission set 49 or 64/, f.message);
    }
    for (const appId of ids) assert.match(result.stdout, new RegExp(`error: .*${appId}.*errcode 48001`), `the output names ${appId}`);
    // Only the failing accounts' resources are unfinished: every declared resource of the others is in the state.
    const failedUrns = new Set(failed.map((f) => f.urn));

    // The others converged; the failing ones hold what they held (the CloudBase-only ones: their new options).
    assert.deepEqual(fleetMismatches(emulator, healthy()), []);
    for (const appId of ids) {
      const expected = { ...before.get(appId)! };
      if (failing.cloudbaseOnly.includes(appId)) expected.options = declared(accounts.find((a) => a.appId === appId)!).options;
      assert.deepEqual(mismatches(appId, expected, snapshot(emulator, appId)), [], `${appId} holds what it held, nothing half-applied`);
    }

    // The state claims exactly what was applied: every resource in it against the emulator.
    const current = state();
    assert.deepEqual(fleetStateMismatches(current, emulator), []);
    const inState = new Set(wechatResources(current).map((r) => r.urn));
    for (const urn of failedUrns) {
      const appId = /wx[0-9a-f]{16}/.exec(urn.split("::").pop()!)![0];
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

  it("5. an up killed midway (SIGKILL once sets are landing), then a new up, converges; the up after that changes nothing", async () => {
    declare(
      2,
      accounts.map((a) => a.appId),
    );
    let orphans: number[] = [];
    let setsAtKill = 0;
    const { result: killed } = await measured("5a up, SIGKILL", async () => {
      const { child, result } = spawnEngine(options());
      let exited = false;
      void result.then(() => (exited = true));
      // Bounded: the loop ends when enough sets landed or the run ended by itself (the test then fails).
      while (!exited && emulator.callCounts().set < 200) await new Promise((resolve) => setTimeout(resolve, 20));
      if (!exited) {
        orphans = descendants(child.pid!);
        setsAtKill = emulator.callCounts().set;
        child.kill("SIGKILL");
      }
      return result;
    });
    assert.equal(killed.signal, "SIGKILL", `the run was killed midway (it ended by itself: ${explain(killed)})`);
    // The program runtime and the provider host notice their parent is gone and exit: no orphan keeps applying.
    assert.ok(orphans.length >= 2, `the harness had started the program and the provider host (${orphans.join(", ")})`);
    assert.deepEqual(await waitForExit(orphans, 15_000), [], "every process the killed harness started has exited");
    const setsAfterKill = emulator.callCounts().set;
    console.log(
      `      killed after ${setsAtKill} set calls (${setsAfterKill} once its processes were gone); ${fleetMismatches(emulator, accounts).length} settings not yet applied`,
    );
    // The state file is whole (written atomically) and still loads.
    assert.ok(state().resources.length > 0);

    const { result: recovered } = await up("5b up after kill");
    assert.equal(recovered.code, 0, explain(recovered));
    assertOneTokenFetchPerAccount();
    assert.deepEqual(recovered.summary?.failed, []);
    assert.deepEqual(fleetMismatches(emulator, accounts), []);
    const current = state();
    assertStateComplete(current, STACK, accounts);
    assert.deepEqual(fleetStateMismatches(current, emulator), []);

    const { result: again, figure } = await up("5c up again");
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
