/**
 * Credentials: the four ways to get a token, one token per account shared by all its resources, asked for again once
 * (never forced) when refused, no write to an account the credentials are not for, and clear errors for missing,
 * contradictory or broken settings that never echo a secret.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readProviderConfig } from "../provider/config";
import { DEMO_CREDENTIALS, useEmulator } from "./support/emulator";
import { HostedProvider, hostedProvider } from "./support/providerHost";

const demo = DEMO_CREDENTIALS;
const option = (authorizerAppId: string, optionName = "location_report", optionValue = "1") => ({
  authorizerAppId,
  optionName,
  optionValue,
  deleteBehavior: "retain",
});

/** An emulator per test, and the stack configurations built on it. */
function useCredentials() {
  const env = useEmulator();
  return Object.assign(env, {
    platformConfig: (refreshTokens: Record<string, string>, extra: Record<string, string> = {}) => ({
      "wechat:apiBaseUrl": env.baseUrl,
      "wechat:componentAppId": demo.componentAppId,
      "wechat:componentAppSecret": demo.componentAppSecret,
      "wechat:componentVerifyTicket": demo.componentVerifyTicket,
      "wechat:authorizerRefreshTokens": JSON.stringify(refreshTokens),
      "wechat:retryBaseDelayMs": "1",
      ...extra,
    }),
    tokenRequests: (path: string) => env.emulator.filter({ path }).length,
    /** A ready token comes with the account it is for. */
    readyToken: (token: string) => ({ "wechat:apiBaseUrl": env.baseUrl, "wechat:accessToken": token, "wechat:appId": demo.appId }),
  });
}

describe("credentials: an account's own credentials", () => {
  const env = useCredentials();
  it("fetch one stable token, shared by concurrent resources of both types", async () => {
    const config = env.accountConfig();
    const options = await hostedProvider("AuthorizerOption", config);
    const push = await hostedProvider("CallbackConfig", config);
    await Promise.all([
      options.create(option(demo.appId, "location_report")),
      options.create(option(demo.appId, "voice_recognize")),
      options.create(option(demo.appId, "customer_service")),
      push.create({
        authorizerAppId: demo.appId,
        containerConfig: { enable: true, qbaseEnv: "e1", qbaseContainerPath: "/c", textMode: 1 },
        deleteBehavior: "retain",
      }),
    ]);
    assert.equal(env.tokenRequests("/cgi-bin/stable_token"), 1);
    assert.deepEqual(env.emulator.filter({ path: "/cgi-bin/stable_token" })[0].body, {
      grant_type: "client_credential",
      appid: demo.appId,
      secret: demo.appSecret,
      force_refresh: false,
    });
  });

  it("cannot manage another account, and say which credentials to use instead", async () => {
    const provider = await hostedProvider("AuthorizerOption", env.accountConfig());
    await assert.rejects(
      provider.create(option("wx00000000000000ff")),
      /credentials are for wx0000000000000001 .*third-party platform credentials/,
    );
    assert.equal(env.emulator.callCounts().total, 0);
  });
});

describe("credentials: a third-party platform", () => {
  const env = useCredentials();
  it("fetches one component token and one authorizer token per account", async () => {
    const fleet = env.emulator.addFleet(demo.componentAppId, 3);
    const refreshTokens = Object.fromEntries(fleet.map((account) => [account.appId, account.refreshToken]));
    const provider = await hostedProvider("AuthorizerOption", env.platformConfig(refreshTokens));
    await Promise.all(
      fleet.flatMap((account) => ["location_report", "voice_recognize"].map((name) => provider.create(option(account.appId, name)))),
    );
    assert.equal(env.tokenRequests("/cgi-bin/component/api_component_token"), 1);
    assert.equal(env.tokenRequests("/cgi-bin/component/api_authorizer_token"), 3);
    for (const account of fleet) assert.equal(env.emulator.options(account.appId).voice_recognize, "1");
  });

  it("uses a ready component token as is", async () => {
    const componentToken = (await (
      await fetch(`${env.baseUrl}/cgi-bin/component/api_component_token`, {
        method: "POST",
        body: JSON.stringify({
          component_appid: demo.componentAppId,
          component_appsecret: demo.componentAppSecret,
          component_verify_ticket: demo.componentVerifyTicket,
        }),
      })
    ).json()) as { component_access_token: string };
    env.emulator.clearRequests();
    const provider = await hostedProvider("AuthorizerOption", {
      "wechat:apiBaseUrl": env.baseUrl,
      "wechat:componentAppId": demo.componentAppId,
      "wechat:componentAccessToken": componentToken.component_access_token,
      "wechat:authorizerRefreshTokens": JSON.stringify({ [demo.appId]: demo.authorizerRefreshToken }),
    });
    await provider.create(option(demo.appId));
    assert.equal(env.tokenRequests("/cgi-bin/component/api_component_token"), 0);
    assert.equal(env.emulator.options(demo.appId).location_report, "1");
  });

  it("names the missing refresh token and makes no call for that account", async () => {
    const provider = await hostedProvider("AuthorizerOption", env.platformConfig({ [demo.appId]: demo.authorizerRefreshToken }));
    await assert.rejects(
      provider.create(option("wx00000000000000ff")),
      /No refresh token for authorizer wx00000000000000ff: add "wx00000000000000ff" to .*wechat:authorizerRefreshTokens/,
    );
    assert.equal(env.emulator.callCounts().total, 0);
  });

  it("asks once per account when the answer is final (a stale refresh token, 61023)", async () => {
    const provider = await hostedProvider("AuthorizerOption", env.platformConfig({ [demo.appId]: "refreshtoken@@@stale" }));
    for (const name of ["location_report", "voice_recognize", "customer_service"]) {
      await assert.rejects(provider.create(option(demo.appId, name)), /errcode 61023 .*wechat:authorizerRefreshTokens/);
    }
    assert.equal(env.tokenRequests("/cgi-bin/component/api_authorizer_token"), 1);
  });

  it("asks again after a transient failure", async () => {
    env.emulator.injectFault({ path: "/cgi-bin/component/api_authorizer_token", httpStatus: 503 });
    const provider = await hostedProvider(
      "AuthorizerOption",
      env.platformConfig({ [demo.appId]: demo.authorizerRefreshToken }, { "wechat:maxAttempts": "1" }),
    );
    await assert.rejects(provider.create(option(demo.appId)), /HTTP status 503/);
    env.emulator.clearFaults();
    await provider.create(option(demo.appId));
    assert.equal(env.tokenRequests("/cgi-bin/component/api_authorizer_token"), 2);
  });

  it("explains a stale verify ticket (61006)", async () => {
    const provider = await hostedProvider(
      "AuthorizerOption",
      env.platformConfig({ [demo.appId]: demo.authorizerRefreshToken }, { "wechat:componentVerifyTicket": "ticket@@@stale" }),
    );
    await assert.rejects(provider.create(option(demo.appId)), /api_component_token failed: errcode 61006 .*wechat:componentVerifyTicket/);
  });
});

describe("credentials: a ready access token", () => {
  const env = useCredentials();
  it("is used as is, with no token request", async () => {
    const token = env.emulator.issueAccessToken(demo.appId);
    const provider = await hostedProvider("AuthorizerOption", env.readyToken(token));
    await provider.create(option(demo.appId));
    assert.equal(env.emulator.callCounts().token, 0);
    assert.equal(env.emulator.filter({ kind: "set" })[0].token, token);
  });

  it("says to issue a new one when it has expired (42001)", async () => {
    const token = env.emulator.issueAccessToken(demo.appId);
    env.emulator.expireTokens(demo.appId);
    const provider = await hostedProvider("AuthorizerOption", env.readyToken(token));
    await assert.rejects(
      provider.create(option(demo.appId)),
      /errcode 42001 .*wechat:accessToken .*issue a new authorizer access token for wx0000000000000001/,
    );
  });
});

describe("credentials: a refused token", () => {
  const env = useCredentials();
  let provider: HostedProvider;
  beforeEach(async () => {
    provider = await hostedProvider("AuthorizerOption", env.accountConfig());
    await provider.create(option(demo.appId, "location_report"));
  });

  for (const [what, refuse] of [
    ["expired (42001)", () => env.emulator.expireTokens(demo.appId)],
    ["revoked (40001)", () => env.emulator.revokeTokens(demo.appId)],
  ] as const) {
    it(`is asked for again once when ${what}, in normal mode, once for all resources that saw it`, async () => {
      refuse();
      env.emulator.clearRequests();
      await Promise.all(["voice_recognize", "customer_service"].map((name) => provider.create(option(demo.appId, name))));
      const tokens = env.emulator.filter({ path: "/cgi-bin/stable_token" });
      assert.equal(tokens.length, 1);
      // Forced mode would invalidate the token the account's production servers hold.
      assert.equal((tokens[0].body as { force_refresh: boolean }).force_refresh, false);
      assert.equal(env.emulator.options(demo.appId).customer_service, "1");
    });
  }

  it("fails with the credentials to check when the renewed token is refused too", async () => {
    env.emulator.injectFault({ path: "/cgi-bin/component/get_authorizer_option", errcode: 40001 });
    env.emulator.clearRequests();
    await assert.rejects(
      provider.create(option(demo.appId, "voice_recognize")),
      /errcode 40001 .*refused too: check wechat:appId and wechat:appSecret for wx0000000000000001/,
    );
    assert.equal(env.emulator.filter({ path: "/cgi-bin/component/get_authorizer_option" }).length, 2);
  });
});

describe("credentials: a refused token, on a platform", () => {
  const env = useCredentials();
  let account: { appId: string; refreshToken: string };
  let provider: HostedProvider;
  beforeEach(async () => {
    [account] = env.emulator.addFleet(demo.componentAppId, 1);
    provider = await hostedProvider("AuthorizerOption", env.platformConfig({ [account.appId]: account.refreshToken }));
    await provider.create(option(account.appId, "location_report"));
    env.emulator.clearRequests();
  });

  it("asks api_authorizer_token again once when the authorizer token is revoked (40001)", async () => {
    env.emulator.revokeTokens(account.appId);
    await provider.create(option(account.appId, "voice_recognize"));
    assert.equal(env.tokenRequests("/cgi-bin/component/api_authorizer_token"), 1);
    assert.equal(env.tokenRequests("/cgi-bin/component/api_component_token"), 0, "the component token was still good");
    assert.equal(env.emulator.options(account.appId).voice_recognize, "1");
  });

  it("asks api_component_token again once when the component token has expired (42001), then the authorizer token", async () => {
    env.emulator.expireTokens(demo.componentAppId);
    env.emulator.revokeTokens(account.appId);
    await provider.create(option(account.appId, "voice_recognize"));
    assert.equal(env.tokenRequests("/cgi-bin/component/api_component_token"), 1);
    assert.equal(env.emulator.options(account.appId).voice_recognize, "1");
  });
});

describe("credentials: choosing a mode", () => {
  const env = useCredentials();
  it("is an error naming every way to set credentials when none is set", async () => {
    const provider = await hostedProvider("AuthorizerOption", { "wechat:apiBaseUrl": env.baseUrl });
    await assert.rejects(
      provider.create(option(demo.appId)),
      /No WeChat credentials are configured\. Set one of: wechat:accessToken .* wechat:appId \+ wechat:appSecret .* wechat:componentAppId/,
    );
  });

  it("does not need credentials to check and diff (preview works without them)", async () => {
    const provider = await hostedProvider("AuthorizerOption", { "wechat:apiBaseUrl": env.baseUrl });
    const { inputs } = await provider.check({}, option(demo.appId));
    assert.deepEqual(await provider.diff("id", inputs, inputs), { changes: false });
  });

  it("says which credential is missing when only wechat:appId is set", () => {
    const config = readProviderConfig({ get: (key) => ({ "wechat:appId": demo.appId })[key] }, {});
    assert.equal(config.credentials, undefined);
    assert.match(config.credentialsProblem ?? "", /wechat:appId is set but no credential goes with it: add wechat:appSecret/);
  });

  it("rejects settings of two modes at once", () => {
    const config = readProviderConfig(
      { get: (key) => ({ "wechat:accessToken": "token-1234567", "wechat:appId": demo.appId, "wechat:appSecret": "s" })[key] },
      {},
    );
    assert.match(config.credentialsProblem ?? "", /Contradictory WeChat credentials: .*wechat:accessToken .*wechat:appSecret/);
  });

  it("takes credentials from WECHAT_* variables when the stack sets none", () => {
    const config = readProviderConfig({ get: () => undefined }, { WECHAT_APP_ID: demo.appId, WECHAT_APP_SECRET: "from-env" });
    assert.deepEqual(config.credentials, { mode: "account", appId: demo.appId, appSecret: "from-env" });
  });

  it("ignores WECHAT_* credentials when the stack sets its own", () => {
    const config = readProviderConfig(
      { get: (key) => ({ "wechat:accessToken": "stack-token", "wechat:appId": demo.appId })[key] },
      { WECHAT_APP_SECRET: "from-env", WECHAT_APP_ID: "wx00000000000000ee" },
    );
    assert.deepEqual(config.credentials, { mode: "accessToken", accessToken: "stack-token", appId: demo.appId });
  });
});

describe("credentials: settings that cannot be used are named, never echoed", () => {
  const env = useCredentials();

  it("refuses plain http to anything but loopback, since tokens travel in the URL", () => {
    assert.throws(
      () => readProviderConfig({ get: (key) => ({ "wechat:apiBaseUrl": "http://proxy.example.com" })[key] }, {}),
      /must use https/,
    );
    assert.equal(
      readProviderConfig({ get: (key) => ({ "wechat:apiBaseUrl": "http://127.0.0.1:8080/" })[key] }, {}).apiBaseUrl,
      "http://127.0.0.1:8080",
    );
  });

  it("names the key and the limit of a bad retry setting", () => {
    assert.throws(
      () => readProviderConfig({ get: (key) => ({ "wechat:maxAttempts": "0" })[key] }, {}),
      /wechat:maxAttempts must be at least 1 \(got "0"\)/,
    );
  });

  it("rejects a refresh-token map that is not JSON, without echoing it", () => {
    const config = readProviderConfig(
      {
        get: (key) =>
          ({
            "wechat:componentAppId": demo.componentAppId,
            "wechat:componentAccessToken": "ctok-123456",
            "wechat:authorizerRefreshTokens": "secret-refresh-value",
          })[key],
      },
      {},
    );
    assert.match(
      config.credentialsProblem ?? "",
      /must be a JSON object mapping each authorizer appid to its refresh token.*it is not JSON/,
    );
    assert.doesNotMatch(config.credentialsProblem ?? "", /secret-refresh-value/);
  });

  it("says when refresh-token keys and values look swapped, without echoing either", () => {
    const swapped = { "refreshtoken@@@secret-refresh-value-1": demo.appId };
    const config = readProviderConfig(
      { get: (key) => ({ ...env.platformConfig({}), "wechat:authorizerRefreshTokens": JSON.stringify(swapped) })[key] },
      {},
    );
    assert.match(
      config.credentialsProblem ?? "",
      /The key of entry 1 of wechat:authorizerRefreshTokens is not an authorizer appid \(its value is an appid: are key and value swapped\?\)/,
    );
    assert.doesNotMatch(config.credentialsProblem ?? "", /secret-refresh-value-1/);
    assert.doesNotMatch(config.credentialsProblem ?? "", new RegExp(demo.appId));
  });

  it("accepts plain http only for loopback IP literals and localhost, not names that merely start like one", () => {
    const baseUrl = (url: string) => () => readProviderConfig({ get: (key) => ({ "wechat:apiBaseUrl": url })[key] }, {}).apiBaseUrl;
    for (const hostile of ["http://127.attacker.example", "http://127.0.0.1.nip.io:8080", "http://localhost.example", "http://[::2]:80"]) {
      assert.throws(baseUrl(hostile), /must use https \(plain http is accepted only for loopback addresses/, hostile);
    }
    for (const loopback of ["http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:8765", "http://localhost:8765"]) {
      assert.equal(baseUrl(loopback)(), loopback.replace(/\/$/, ""));
    }
  });

  it("wechat:accessToken needs wechat:appId: a ready token is for one account", () => {
    const config = readProviderConfig({ get: (key) => ({ "wechat:accessToken": "ready-token-123" })[key] }, {});
    assert.equal(config.credentials, undefined);
    assert.match(config.credentialsProblem ?? "", /Incomplete credentials for a ready authorizer access token .*: set wechat:appId\./);
  });

  it("rejects a key the chosen mode does not use", () => {
    const config = readProviderConfig({ get: (key) => ({ "wechat:tokenCommand": "node token.js", "wechat:appId": demo.appId })[key] }, {});
    assert.match(config.credentialsProblem ?? "", /wechat:appId is not used with wechat:tokenCommand .*: remove it\./);
  });
});

describe("credentials: a resource naming an account the credentials are not for", () => {
  const env = useCredentials();
  for (const [mode, config] of [
    ["a ready token", () => env.readyToken(env.emulator.issueAccessToken(demo.appId))],
    ["an account's own secret", () => env.accountConfig()],
  ] as const) {
    it(`fails at check with ${mode}, and create sends nothing`, async () => {
      const provider = await hostedProvider("AuthorizerOption", config());
      const other = option("wx00000000000000ff");
      const { failures } = await provider.check({}, other);
      assert.equal(failures?.[0].property, "authorizerAppId");
      assert.match(failures![0].reason, /manage only that account: use wx0000000000000001/);
      await assert.rejects(
        provider.create(other),
        /for wx0000000000000001 \(wechat:appId\), but a resource manages wx00000000000000ff; nothing was sent/,
      );
      assert.equal(env.emulator.callCounts().total, 0);
      assert.deepEqual(env.emulator.options("wx0000000000000001").location_report, "0");
    });
  }
});

describe("credentials: a configuration error", () => {
  const env = useCredentials();
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it("fails every operation with that error, and never falls back to WECHAT_* variables", async () => {
    // Credentials in the environment that would work: a fallback would write with them.
    Object.assign(process.env, {
      WECHAT_API_BASE_URL: env.baseUrl,
      WECHAT_APP_ID: demo.appId,
      WECHAT_APP_SECRET: demo.appSecret,
    });
    const provider = await hostedProvider("AuthorizerOption", { ...env.accountConfig(), "wechat:maxConcurrency": "abc" });
    const inputs = { ...option(demo.appId), optionValue: "1" };
    const outs = { ...inputs, previousValue: "0" };
    for (const operation of [
      () => provider.check({}, inputs),
      () => provider.diff("id", outs, inputs),
      () => provider.create(inputs),
      () => provider.read(`${demo.appId}/location_report`, outs),
      () => provider.update(`${demo.appId}/location_report`, outs, { ...inputs, optionValue: "2" }),
      () => provider.delete(`${demo.appId}/location_report`, { ...outs, deleteBehavior: "reset" }),
    ]) {
      await assert.rejects(operation(), /wechat:maxConcurrency must be a whole number \(got "abc"\)/);
    }
    assert.equal(env.emulator.callCounts().total, 0);
  });
});

describe("credentials: a forced refresh is never asked for", () => {
  const env = useCredentials();
  it("after another server of the account forced a new token (40001), asks again in normal mode and succeeds", async () => {
    const provider = await hostedProvider("AuthorizerOption", env.accountConfig());
    await provider.create(option(demo.appId, "location_report"));
    // Another of the account's servers forces a new token: the one the provider holds is now refused.
    await fetch(`${env.baseUrl}/cgi-bin/stable_token`, {
      method: "POST",
      body: JSON.stringify({ grant_type: "client_credential", appid: demo.appId, secret: demo.appSecret, force_refresh: true }),
    });
    env.emulator.clearRequests();
    await provider.create(option(demo.appId, "voice_recognize"));
    const refused = env.emulator.filter({ errcode: 40001 });
    assert.equal(refused.length, 1, "the superseded token was refused once");
    const asked = env.emulator.filter({ path: "/cgi-bin/stable_token" }).map((request) => request.body);
    assert.deepEqual(asked, [{ grant_type: "client_credential", appid: demo.appId, secret: demo.appSecret, force_refresh: false }]);
    assert.equal(env.emulator.options(demo.appId).voice_recognize, "1");
  });

  it("treats 40014 (a token for another account, or malformed) as final: asking again cannot help", async () => {
    const provider = await hostedProvider("AuthorizerOption", env.accountConfig());
    env.emulator.injectFault({ path: "/cgi-bin/component/get_authorizer_option", errcode: 40014 });
    await assert.rejects(
      provider.create(option(demo.appId)),
      /errcode 40014 invalid access_token .*a token of one account cannot manage another/,
    );
    assert.equal(env.tokenRequests("/cgi-bin/stable_token"), 1);
  });
});

/** A scratch directory per test, for the token commands the tests write. */
function useScratchDir(): { readonly path: string } {
  const scratch = { path: "" };
  beforeEach(() => {
    scratch.path = fs.mkdtempSync(path.join(os.tmpdir(), "token-command-"));
  });
  afterEach(() => fs.rmSync(scratch.path, { recursive: true, force: true }));
  return scratch;
}

describe("credentials: a token command (wechat:tokenCommand)", () => {
  const env = useCredentials();
  const scratch = useScratchDir();

  /**
   * A token service of the user's: prints the token of WECHAT_TOKEN_APP_ID from tokens.json, logs each call, and
   * takes `holdMs` to answer, logging "+" when it starts and "-" when it ends (in running.log).
   */
  function tokenService(tokens: Record<string, string>, holdMs = 0): string {
    fs.writeFileSync(path.join(scratch.path, "tokens.json"), JSON.stringify(tokens));
    fs.writeFileSync(
      path.join(scratch.path, "token.js"),
      [
        'const fs = require("fs"), path = require("path");',
        'fs.appendFileSync(path.join(__dirname, "calls.log"), `${process.env.WECHAT_TOKEN_KIND} ${process.env.WECHAT_TOKEN_APP_ID}\\n`);',
        'const tokens = JSON.parse(fs.readFileSync(path.join(__dirname, "tokens.json"), "utf8"));',
        'fs.appendFileSync(path.join(__dirname, "running.log"), "+\\n");',
        `setTimeout(() => {`,
        '  fs.appendFileSync(path.join(__dirname, "running.log"), "-\\n");',
        "  process.stdout.write(JSON.stringify({ access_token: tokens[process.env.WECHAT_TOKEN_APP_ID], expires_in: 7200 }));",
        `}, ${holdMs});`,
      ].join("\n"),
    );
    return `node ${JSON.stringify(path.join(scratch.path, "token.js"))}`;
  }
  const calls = () => fs.readFileSync(path.join(scratch.path, "calls.log"), "utf8").trim().split("\n");
  const commandConfig = (command: string) => ({
    "wechat:apiBaseUrl": env.baseUrl,
    "wechat:tokenCommand": command,
    "wechat:retryBaseDelayMs": "1",
  });

  it("is run once per account, told the kind and the appid, and its token is what WeChat receives", async () => {
    const [b] = env.emulator.addFleet(demo.componentAppId, 1);
    const tokens = { [demo.appId]: env.emulator.issueAccessToken(demo.appId), [b.appId]: env.emulator.issueAccessToken(b.appId) };
    const provider = await hostedProvider("AuthorizerOption", commandConfig(tokenService(tokens)));
    await Promise.all(
      [demo.appId, b.appId].flatMap((appId) => ["location_report", "voice_recognize"].map((name) => provider.create(option(appId, name)))),
    );
    assert.deepEqual(calls().sort(), [`authorizer ${b.appId}`, `authorizer ${demo.appId}`].sort());
    assert.equal(env.emulator.callCounts().token, 0);
    assert.deepEqual(
      new Set(
        env.emulator.requests.filter((request) => request.kind === "set" && request.appId === b.appId).map((request) => request.token),
      ),
      new Set([tokens[b.appId]]),
    );
    assert.equal(env.emulator.options(b.appId).voice_recognize, "1");
  });

  it("runs at most wechat:maxConcurrency at once, however many accounts wait for a token", async () => {
    const fleet = env.emulator.addFleet(demo.componentAppId, 6);
    const tokens = Object.fromEntries(fleet.map((account) => [account.appId, env.emulator.issueAccessToken(account.appId)]));
    const config = { ...commandConfig(tokenService(tokens, 400)), "wechat:maxConcurrency": "2" };
    const provider = await hostedProvider("AuthorizerOption", config);
    await Promise.all(fleet.map((account) => provider.create(option(account.appId))));
    let running = 0;
    let most = 0;
    for (const line of fs.readFileSync(path.join(scratch.path, "running.log"), "utf8").trim().split("\n")) {
      running += line === "+" ? 1 : -1;
      most = Math.max(most, running);
    }
    assert.equal(calls().length, 6);
    assert.equal(most, 2);
  });

  it("is run once more when WeChat refuses its token, then the refusal is final", async () => {
    const provider = await hostedProvider("AuthorizerOption", commandConfig(tokenService({ [demo.appId]: "not-a-token-weChat-knows" })));
    await assert.rejects(
      provider.create(option(demo.appId)),
      /errcode 40001 .*refused too: check what wechat:tokenCommand prints for wx0000000000000001/,
    );
    assert.deepEqual(calls(), [`authorizer ${demo.appId}`, `authorizer ${demo.appId}`]);
  });
});

describe("credentials: a token command that fails", () => {
  const env = useCredentials();
  const scratch = useScratchDir();
  const commandConfig = (command: string) => ({
    "wechat:apiBaseUrl": env.baseUrl,
    "wechat:tokenCommand": command,
    "wechat:retryBaseDelayMs": "1",
  });

  for (const [what, script, timeoutMs, message] of [
    [
      "exits non-zero",
      "process.stdout.write('PRINTED-TOKEN-123456'); process.exit(3)",
      20000,
      /exited with status 3 for authorizer wx0000000000000001/,
    ],
    [
      "prints something other than the token JSON",
      "process.stdout.write('PRINTED-TOKEN-123456')",
      20000,
      /printed no token: it must print one JSON object/,
    ],
    [
      "takes longer than wechat:requestTimeoutMs",
      "process.stdout.write('PRINTED-TOKEN-123456'); setTimeout(() => {}, 60000)",
      300,
      /did not finish within 300 ms/,
    ],
  ] as const) {
    it(`that ${what} fails naming the command, never its output`, async () => {
      fs.writeFileSync(path.join(scratch.path, "broken.js"), script);
      const provider = await hostedProvider("AuthorizerOption", {
        ...commandConfig(`node ${JSON.stringify(path.join(scratch.path, "broken.js"))}`),
        "wechat:requestTimeoutMs": String(timeoutMs),
      });
      const error: Error = await provider.create(option(demo.appId)).then(
        () => assert.fail("create should fail"),
        (e: Error) => e,
      );
      assert.match(error.message, /^wechat:tokenCommand \(node …\) /);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /PRINTED-TOKEN/);
      assert.equal(env.emulator.callCounts().total, 0);
    });
  }

  it("that times out is stopped with everything its shell started", async () => {
    const pidFile = path.join(scratch.path, "grandchild.pid");
    fs.writeFileSync(
      path.join(scratch.path, "slow.js"),
      `require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 60000)`,
    );
    // `cd … && node …`: the shell forks node instead of becoming it, so node is the shell's child.
    const command = `cd ${JSON.stringify(scratch.path)} && node slow.js`;
    const provider = await hostedProvider("AuthorizerOption", { ...commandConfig(command), "wechat:requestTimeoutMs": "1000" });
    await assert.rejects(provider.create(option(demo.appId)), /did not finish within 1000 ms/);
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Gone, or a zombie (dead, waiting for PID 1 to reap it: this machine's init reaps lazily).
    const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
    assert.ok(stat === "" || /^\d+ \(.*\) Z /.test(stat), `the command's node process was stopped: ${stat}`);
  });

  it("whose first word is an assignment is not named by it (it may hold a secret)", async () => {
    const provider = await hostedProvider("AuthorizerOption", commandConfig("TOKEN_SERVICE_KEY=s3cr3t-value false"));
    const error: Error = await provider.create(option(demo.appId)).then(
      () => assert.fail("create should fail"),
      (e: Error) => e,
    );
    assert.match(error.message, /^wechat:tokenCommand exited with status 1 for authorizer wx0000000000000001/);
    assert.doesNotMatch(error.message, /s3cr3t/);
  });
});
