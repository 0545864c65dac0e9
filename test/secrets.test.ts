/**
 * Secrets never leave the provider: the whole lifecycle (preview, up, update, refresh, destroy) and four failing runs,
 * through the real Pulumi CLI, with recognizable credentials in both credential modes. Afterwards no app secret,
 * component secret, verify ticket, refresh token, or token the emulator issued appears in the state file, in the
 * package's resources decrypted, in the serialized providers (`__provider`), in stdout or stderr, in any error, or in
 * the engine's event log.
 *
 * - The account's own credentials come from WECHAT_APP_ID / WECHAT_APP_SECRET, which the engine knows nothing about:
 *   only the provider can keep them out of what is printed, and the state holds no trace of them.
 * - The platform's come from secret stack config. The real engine keeps the whole stack config in the state, as the
 *   inputs of the default provider (`pulumi:providers:pulumi-nodejs::default`): there each secret must be encrypted.
 *   What our code prints passes a redactor that would mask a secret value as "[secret]"; that would hide a leak by
 *   the provider, so the marker must never appear there. The CLI masks secret config with it in its event log:
 *   there it may appear only where the CLI shows a secret config value.
 *
 * The failing runs: a dropped connection and an HTTP 502 with the retries exhausted; a 40164 whose errmsg echoes the
 * token (and the configured secrets); wechat:apiBaseUrl pointing at a closed loopback port (a refresh that runs the
 * program, since a plain refresh signs in with the configuration saved at the last up).
 */
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { WeChatEmulator } from "./emulator/server";
import { RunEngineOptions, RunEngineResult, chooseEngine, isSecret, readState, runEngine, stateFileOf } from "./harness";
import { eventLogOf } from "./pulumi/run";
import { SET_CALLBACK_CONFIG as SET_PUSH, SET_OPTION } from "./support/stack";
import { ROOT, wechatResources } from "./support/state";

const QUICKSTART = path.join(ROOT, "examples", "quickstart");
const PROJECT = "wechat-quickstart";
const DEFAULT_PROVIDER = "::pulumi:providers:pulumi-nodejs::default";
/** What the CLI shows for a secret value in its event log. */
const MASK = "[secret]";

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Something a person or a log could read after a run. */
interface Artifact {
  readonly what: string;
  readonly text: string;
}

/** Where an event log shows the mask: `<event kind>.<path>`, with a step's URN after the kind. */
function masksIn(eventLog: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, at: string): void => {
    if (value === MASK) found.push(at);
    else if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) walk(item, `${at}.${key}`);
  };
  for (const line of eventLog.split("\n").filter((l) => l.trim())) {
    for (const [kind, body] of Object.entries(JSON.parse(line) as Record<string, { metadata?: { urn?: string } }>)) {
      const urn = body?.metadata?.urn;
      walk(body, urn ? `${kind}(${urn})` : kind);
    }
  }
  return found;
}

/** Where `needle` occurs in the artifacts: one line per place, with a little context. */
function occurrences(artifacts: readonly Artifact[], needles: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const { what, text } of artifacts) {
    for (const [name, needle] of needles) {
      const at = text.indexOf(needle);
      if (at >= 0) found.push(`${what} contains ${name}: …${text.slice(Math.max(0, at - 80), at + needle.length + 40)}…`);
    }
  }
  return found;
}

interface Mode {
  readonly name: string;
  readonly appId: string;
  /** The recognizable credential values of the mode, by name. */
  readonly secrets: Record<string, string>;
  /** Registers the account (and platform) with the emulator. */
  register(emulator: WeChatEmulator): void;
  /** How the credentials reach the provider. */
  credentials(): Pick<RunEngineOptions, "config" | "secrets" | "env">;
}

/** Every value made for this run carries the tag, so a partial leak (a prefix stripped, say) is found too. */
const TAG = `kanarie${randomBytes(5).toString("hex")}`;

const accountMode: Mode = {
  name: "the account's own credentials (WECHAT_* environment variables)",
  appId: "wx5ec7e75ec7e70001",
  secrets: { "the app secret": `app-secret-${TAG}` },
  register(emulator) {
    emulator.addAccount({ appId: this.appId, appSecret: this.secrets["the app secret"] });
  },
  credentials() {
    return { env: { WECHAT_APP_ID: this.appId, WECHAT_APP_SECRET: this.secrets["the app secret"] } };
  },
};

const componentAppId = "wx5ec7e75ec7e700c0";
const otherAuthorizer = "wx5ec7e75ec7e700ff";
const platformMode: Mode = {
  name: "third-party platform credentials (--secret stack config)",
  appId: "wx5ec7e75ec7e70002",
  secrets: {
    "the component secret": `component-secret-${TAG}`,
    "the verify ticket": `ticket@@@verify-ticket-${TAG}`,
    "the refresh token": `refreshtoken@@@refresh-${TAG}`,
    "another account's refresh token": `refreshtoken@@@other-refresh-${TAG}`,
  },
  register(emulator) {
    emulator.addPlatform({
      componentAppId,
      componentAppSecret: this.secrets["the component secret"],
      verifyTicket: this.secrets["the verify ticket"],
    });
    emulator.addAccount({ appId: this.appId, platform: componentAppId, refreshToken: this.secrets["the refresh token"] });
    emulator.addAccount({
      appId: otherAuthorizer,
      platform: componentAppId,
      refreshToken: this.secrets["another account's refresh token"],
    });
  },
  credentials() {
    return {
      config: { "wechat:componentAppId": componentAppId },
      secrets: {
        "wechat:componentAppSecret": this.secrets["the component secret"],
        "wechat:componentVerifyTicket": this.secrets["the verify ticket"],
        "wechat:authorizerRefreshTokens": JSON.stringify({
          [this.appId]: this.secrets["the refresh token"],
          [otherAuthorizer]: this.secrets["another account's refresh token"],
        }),
      },
    };
  },
};

for (const mode of [accountMode, platformMode]) {
  describe(`secrets stay out of state, stubs, output and errors: ${mode.name}`, function () {
    this.timeout(300_000);

    let emulator: WeChatEmulator;
    let baseUrl = "";
    let dir = "";
    let stateFile = "";
    const artifacts: Artifact[] = [];
    /** The CLI's own record of each run: it masks secret config values in it. */
    const eventLogs: Artifact[] = [];
    let stubs = 0;
    let broken = false;

    /** Runs one command of the lifecycle and keeps everything it left behind for inspection. */
    async function run(
      label: string,
      command: RunEngineOptions["command"],
      extra: Pick<RunEngineOptions, "config" | "env" | "verbose" | "runProgram" | "continueOnError"> = {},
    ): Promise<RunEngineResult> {
      const credentials = mode.credentials();
      const result = await runEngine({
        command,
        cwd: QUICKSTART,
        stack: "secrets",
        backendDir: dir,
        transpileOnly: true,
        config: {
          "wechat:apiBaseUrl": baseUrl,
          "wechat:retryBaseDelayMs": "1",
          [`${PROJECT}:authorizerAppId`]: mode.appId,
          ...credentials.config,
          ...extra.config,
        },
        secrets: credentials.secrets,
        env: { ...credentials.env, ...extra.env },
        verbose: extra.verbose,
        runProgram: extra.runProgram,
        continueOnError: extra.continueOnError,
      });
      artifacts.push({ what: `${label}: stdout`, text: result.stdout }, { what: `${label}: stderr`, text: result.stderr });
      for (const failure of result.summary?.failed ?? [])
        artifacts.push({ what: `${label}: error of ${failure.urn}`, text: failure.message });
      const events = eventLogOf(dir, "secrets");
      if (fs.existsSync(events)) eventLogs.push({ what: `${label}: event log`, text: fs.readFileSync(events, "utf8") });
      if (fs.existsSync(stateFile)) {
        artifacts.push({ what: `${label}: state file`, text: fs.readFileSync(stateFile, "utf8") });
        assertConfigEncrypted(label);
        // Decrypted, the default provider holds the secret config by design (encrypted at rest: just checked); the
        // package's resources and the stack hold no secret even encrypted.
        const decrypted = readState(stateFile, { decrypt: true })!;
        const withoutConfig = decrypted.resources.filter((r) => !r.urn.endsWith(DEFAULT_PROVIDER));
        artifacts.push({ what: `${label}: state but the stack config, secrets decrypted`, text: JSON.stringify(withoutConfig) });
        for (const resource of wechatResources(decrypted)) {
          for (const [where, props] of [
            ["inputs", resource.inputs],
            ["outputs", resource.outputs],
          ] as const) {
            if (typeof props.__provider !== "string") continue;
            stubs++;
            artifacts.push({ what: `${label}: __provider of ${resource.urn} (${where})`, text: props.__provider });
          }
        }
      }
      // The secrets known before the run must be absent already; the tokens are checked once all are issued.
      assertClean(configured());
      return result;
    }

    const explain = (result: RunEngineResult) => `exit ${result.code}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`;

    const configured = () => new Map([...Object.entries(mode.secrets), ["the tag every secret carries", TAG]]);

    /** Every token the emulator issued that the provider used (each use is in the request log). */
    function issuedTokens(): Map<string, string> {
      const tokens = new Map<string, string>();
      for (const request of emulator.requests) {
        if (!request.token) continue;
        const kind = `${request.tokenKind ?? "unknown"} token from ${request.tokenSource ?? "?"}`;
        tokens.set(`a ${kind} (${request.token.slice(0, 4)}…)`, request.token);
        // The random part alone, in case something strips the sequence prefix.
        tokens.set(`the random part of a ${kind} (${request.token.slice(0, 4)}…)`, request.token.slice(request.token.indexOf("_") + 1));
      }
      return tokens;
    }

    function assertClean(needles: ReadonlyMap<string, string>): void {
      assert.deepEqual(occurrences([...artifacts, ...eventLogs], needles), [], "no secret or token appears");
      // Something we print passed a value known as secret to the redactor, which masked it.
      assert.deepEqual(occurrences(artifacts, new Map([["the redactor's mask", MASK]])), [], "nothing needed masking");
      // The CLI shows each secret config value as the mask, and nothing else.
      const secretKeys = Object.keys(mode.credentials().secrets ?? {}).map((key) => key.replace(/[.$]/g, "\\$&"));
      const shown = new RegExp(
        `^(preludeEvent\\.config|\\w+\\(urn:pulumi:secrets::${PROJECT}${DEFAULT_PROVIDER}\\)\\.metadata\\.(old|new)\\.(inputs|outputs))\\.(${secretKeys.join("|")})(\\.ciphertext)?$`,
      );
      for (const { what, text } of eventLogs) {
        const masks = masksIn(text);
        assert.deepEqual(
          masks.filter((at) => secretKeys.length === 0 || !shown.test(at)),
          [],
          `${what}: the mask where the CLI shows no secret config`,
        );
        for (const key of Object.keys(mode.credentials().secrets ?? {}))
          assert.ok(masks.includes(`preludeEvent.config.${key}`), `${what} masks ${key}`);
      }
      const unredacted = [...artifacts, ...eventLogs]
        .filter(({ text }) => /access_token=(?!\[redacted\])/.test(text))
        .map(({ what }) => what);
      assert.deepEqual(unredacted, [], "no access_token= carries a value");
    }

    /** The default provider holds the whole stack config: every secret of it encrypted, and nothing else secret. */
    function assertConfigEncrypted(label: string): void {
      const provider = readState(stateFile)!.resources.find((r) => r.urn.endsWith(DEFAULT_PROVIDER));
      if (!provider) return;
      const secrets = mode.credentials().secrets ?? {};
      for (const side of ["inputs", "outputs"] as const) {
        const stored: Record<string, unknown> = provider[side];
        const encrypted: string[] = Object.keys(stored).filter(
          (key) => isSecret(stored[key]) && typeof (stored[key] as { ciphertext?: unknown }).ciphertext === "string",
        );
        assert.deepEqual(
          encrypted.sort(),
          Object.keys(secrets).sort(),
          `${label}: the secret config is what the default provider's ${side} encrypt`,
        );
      }
      // And the plain config is there in clear (the README's reason to set every credential with --secret).
      assert.equal(provider.inputs["wechat:retryBaseDelayMs"], "1", `${label}: plain config is stored as it is`);
      const opened = readState(stateFile, { decrypt: true })!.resources.find((r) => r.urn.endsWith(DEFAULT_PROVIDER))!;
      for (const [key, value] of Object.entries(secrets))
        assert.equal((opened.inputs[key] as { value: unknown }).value, value, `${label}: ${key}`);
    }

    before(async () => {
      emulator = new WeChatEmulator();
      mode.register(emulator);
      baseUrl = await emulator.start();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-wechat-secrets-"));
      stateFile = stateFileOf({ cwd: QUICKSTART, stack: "secrets", backendDir: dir });
    });

    beforeEach(function () {
      if (broken) this.skip();
    });

    afterEach(function () {
      if (this.currentTest?.state === "failed") broken = true;
    });

    after(async () => {
      await emulator?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("preview, up, update and refresh (after drift) succeed", async () => {
      const preview = await run("preview", "preview");
      assert.equal(preview.code, 0, explain(preview));
      assert.equal(preview.summary!.changes.create, 4);
      assert.equal(emulator.callCounts().total, 0, "preview calls no API");

      const up = await run("up", "up");
      assert.equal(up.code, 0, explain(up));
      assert.equal(up.summary!.changes.create, 4);

      // Verbose: the program runtime's debug log (registrations, serialized providers) is printed too.
      const update = await run("update, verbose", "up", { config: { [`${PROJECT}:cloudbaseEnv`]: "env-two" }, verbose: true });
      assert.equal(update.code, 0, explain(update));
      assert.equal(update.summary!.changes.update, 1);
      assert.equal(emulator.callbackConfig(mode.appId).container_config.qbase_env, "env-two");

      emulator.setOption(mode.appId, "location_report", "2");
      const refresh = await run("refresh", "refresh", { config: { [`${PROJECT}:cloudbaseEnv`]: "env-two" } });
      assert.equal(refresh.code, 0, explain(refresh));
      assert.equal(refresh.summary!.changes.update, 1, "refresh found the drift");
      assert.ok(stubs > 0, "the state holds serialized providers");
    });

    it("failing runs: dropped connection and HTTP 502 with the retries exhausted", async function () {
      if (chooseEngine() === "harness") return this.skip(); // --continue-on-error is the CLI's alone
      const drop = emulator.injectFault({ path: SET_OPTION, drop: true });
      const gateway = emulator.injectFault({ path: SET_PUSH, httpStatus: 502 });
      // --continue-on-error: both updates fail, and each failure must be reported (the engine stops at the first one
      // otherwise, and the other update may never run).
      const result = await run("up, drop and 502", "up", {
        config: { [`${PROJECT}:cloudbaseEnv`]: "env-three", "wechat:maxAttempts": "2" },
        continueOnError: true,
      });
      drop.remove();
      gateway.remove();
      assert.notEqual(result.code, 0);
      const messages = result.summary!.failed.map((f) => f.message).join("\n");
      assert.match(messages, /set_authorizer_option for authorizer \S+ failed after 2 attempts over \d+\.\d s: network error/);
      assert.match(messages, /setcallbackconfig for authorizer \S+ failed after 2 attempts over \d+\.\d s: HTTP status 502/);
    });

    it("failing run: a 40164 whose errmsg echoes the token and the credentials", async function () {
      if (chooseEngine() === "harness") return this.skip(); // --continue-on-error is the CLI's alone
      // The account's stable token stays the same until it expires, so the token this run will send is known; a
      // platform's authorizer tokens are new each run, so there the errmsg echoes the configured secrets and the
      // last component token (as a query parameter).
      const lastToken = [...emulator.requests]
        .reverse()
        .find((r) => r.tokenSource === (mode === accountMode ? "stable" : "component"))?.token;
      assert.ok(lastToken, "a token was used before");
      const echoed = [
        `invalid ip 203.0.113.7, not in whitelist`,
        mode === accountMode ? `token ${lastToken}` : "",
        `access_token=${lastToken}`,
        ...Object.values(mode.secrets),
        `rid: 5f0c1e2d`,
      ].join(" ");
      const handles = [SET_OPTION, SET_PUSH].map((p) => emulator.injectFault({ path: p, errcode: 40164, errmsg: echoed }));
      // --continue-on-error, as above: both sets must be answered with the echo.
      const result = await run("up, 40164", "up", { config: { [`${PROJECT}:cloudbaseEnv`]: "env-three" }, continueOnError: true });
      for (const handle of handles) handle.remove();
      assert.notEqual(result.code, 0);
      assert.equal(emulator.filter({ errcode: 40164 }).length, 2, "the errmsg was answered to both sets");
      const failed = result.summary!.failed.filter((f) => f.urn.includes("dynamic/wechat"));
      assert.equal(failed.length, 2, "both updates failed");
      for (const failure of failed) {
        assert.match(failure.message, /errcode 40164 .*IP whitelist/);
        assert.match(failure.message, /\[redacted\]/, "the echo was redacted, not dropped");
      }
      if (mode === accountMode) assertClean(new Map([["the token the run used", lastToken]]));
    });

    it("failing run: wechat:apiBaseUrl points at a closed loopback port", async () => {
      const port = await closedPort();
      // --run-program: a plain refresh would sign in with the configuration saved at the last up.
      const result = await run("refresh, closed port", "refresh", {
        config: { [`${PROJECT}:cloudbaseEnv`]: "env-three", "wechat:apiBaseUrl": `http://127.0.0.1:${port}`, "wechat:maxAttempts": "2" },
        runProgram: true,
      });
      assert.notEqual(result.code, 0);
      assert.equal(result.summary!.failed.length, 4);
      for (const failure of result.summary!.failed)
        assert.match(failure.message, /failed after 2 attempts over \d+\.\d s: network error ECONNREFUSED/);
    });

    it("the next up converges and destroy restores", async () => {
      const up = await run("up, recovered", "up", { config: { [`${PROJECT}:cloudbaseEnv`]: "env-three" } });
      assert.equal(up.code, 0, explain(up));
      assert.equal(emulator.options(mode.appId).location_report, "1");
      assert.equal(emulator.callbackConfig(mode.appId).container_config.qbase_env, "env-three");
      emulator.setOption(mode.appId, "customer_service", "1");
      const destroy = await run("destroy", "destroy", { config: { [`${PROJECT}:cloudbaseEnv`]: "env-three" } });
      assert.equal(destroy.code, 0, explain(destroy));
      assert.equal(destroy.summary!.changes.delete, 4);
      assert.equal(emulator.options(mode.appId).customer_service, "0", "customer_service was restored to the value before the stack");
    });

    it("no secret and no issued token appears anywhere the runs left output", () => {
      // The check means something only if the recognizable values were in use: every one of them reached the API.
      const sent = JSON.stringify(emulator.requests.map((r) => r.body));
      for (const [name, value] of Object.entries(mode.secrets)) {
        if (name !== "another account's refresh token") assert.ok(sent.includes(value), `${name} was sent to the API`);
      }
      const tokens = issuedTokens();
      assert.ok(tokens.size >= 2, "tokens were issued and used");
      assertClean(new Map([...configured(), ...tokens]));
      console.log(
        `      checked ${artifacts.length} outputs (${stubs} serialized providers) and ${eventLogs.length} event logs for ${configured().size} secrets and ${tokens.size / 2} tokens`,
      );
    });
  });
}
