/**
 * Errors are answers: every documented errcode becomes a message naming the API, the account and the fix; retries
 * happen only where they can help, bounded; and no token or secret ever appears in what is thrown.
 */
import { strict as assert } from "node:assert";
import * as net from "node:net";
import { backoffMs } from "../provider/client";
import { ERRCODES } from "../provider/errors";
import { DEMO_CREDENTIALS, useEmulator } from "./support/emulator";
import { hostedProvider } from "./support/providerHost";

const appId = DEMO_CREDENTIALS.appId;
const getPath = "/cgi-bin/component/get_authorizer_option";
const create = { authorizerAppId: appId, optionName: "location_report", optionValue: "1", deleteBehavior: "retain" };

/** What a person should read for each documented errcode (besides the API and the appid). */
const EXPECTED_ADVICE: Record<number, RegExp> = {
  [-1]: /system busy/,
  [-1000]: /system error/,
  40001: /invalid credential/,
  40013: /invalid appid .*case-sensitive/,
  40014: /invalid access_token/,
  40101: /missing parameter .*defect in pulumi-wechat/,
  40164: /IP whitelist .*egress IP/,
  41001: /access_token missing .*defect/,
  42001: /access_token expired/,
  43002: /POST required .*defect/,
  44002: /empty POST data .*defect/,
  45009: /daily API quota .*resets .*clear_quota/,
  45011: /minute-quota .*wechat:maxConcurrency/,
  47001: /data format error .*defect/,
  48001: /permission set 49 or 64/,
  61003: /has not authorized this third-party platform/,
  61004: /platform's IP whitelist/,
  61007: /API not authorized to the platform .*permission set/,
  41002: /appid missing .*wechat:appId/,
  41004: /appsecret missing .*wechat:appSecret/,
  89503: /awaits the administrator's confirmation .*confirm it in the WeChat admin console/,
  89506: /administrator refused this IP .*after 24 hours/,
  89507: /administrator refused this IP .*after 1 hour/,
};

/** The emulator, and a provider that tries each request at most three times. */
function useSuite() {
  const env = useEmulator();
  return { env, provider: () => hostedProvider("AuthorizerOption", env.accountConfig({ "wechat:maxAttempts": "3" })) };
}

describe("errors: every documented errcode has advice", () => {
  const suite = useSuite();
  for (const [code, advice] of Object.entries(EXPECTED_ADVICE)) {
    it(`${code}: names the API, the authorizer and what to do`, async () => {
      assert.ok(ERRCODES[Number(code)], `errcode ${code} is in the table`);
      suite.env.emulator.injectFault({ path: getPath, errcode: Number(code) });
      const error: Error = await (await suite.provider()).create(create).then(
        () => assert.fail("create should fail"),
        (e: Error) => e,
      );
      assert.match(error.message, new RegExp(`get_authorizer_option for authorizer ${appId} failed`));
      assert.match(error.message, new RegExp(`errcode ${code} `));
      assert.match(error.message, advice);
      assert.match(error.message, /Fix: /);
    });
  }
});

describe("errors: retries", () => {
  const suite = useSuite();
  for (const fault of [
    { errcode: -1 },
    { errcode: -1000 },
    { errcode: 45011 },
    { httpStatus: 502 },
    { httpStatus: 429 },
    { drop: true },
    { body: "<html>busy</html>" },
  ]) {
    it(`retries ${JSON.stringify(fault)} and succeeds`, async () => {
      suite.env.emulator.injectFault({ path: getPath, times: 2, ...fault });
      const { outs } = await (await suite.provider()).create(create);
      assert.equal(outs.previousValue, "0");
      assert.equal(suite.env.emulator.filter({ path: getPath }).length, 3);
    });
  }

  it("waits between half and all of an exponential backoff, capped at 30 s, four times longer for the minute quota", () => {
    const [low, high] = [() => 0, () => 1];
    assert.deepEqual(
      [1, 2, 3].map((attempt) => [backoffMs(attempt, 200, false, low), backoffMs(attempt, 200, false, high)]),
      [
        [100, 200],
        [200, 400],
        [400, 800],
      ],
    );
    assert.equal(backoffMs(1, 200, true, high), 800);
    assert.equal(backoffMs(30, 200, false, high), 30000);
    assert.equal(backoffMs(30, 200, true, low), 15000);
  });

  it("gives up after wechat:maxAttempts and says how many attempts were made", async () => {
    suite.env.emulator.injectFault({ path: getPath, errcode: -1 });
    await assert.rejects((await suite.provider()).create(create), /failed after 3 attempts over \d+\.\d s: errcode -1 /);
    assert.equal(suite.env.emulator.filter({ path: getPath }).length, 3);
  });

  for (const code of [45009, 48001, 61004, 40164, 40013, 47001]) {
    it(`does not retry ${code}`, async () => {
      suite.env.emulator.injectFault({ path: getPath, errcode: code });
      await assert.rejects((await suite.provider()).create(create));
      assert.equal(suite.env.emulator.filter({ path: getPath }).length, 1);
    });
  }

  it("backs off without holding a concurrency slot: other accounts' calls go on meanwhile (45011)", async () => {
    const [other] = suite.env.emulator.addFleet(DEMO_CREDENTIALS.componentAppId, 1);
    const platform = await hostedProvider("AuthorizerOption", {
      "wechat:apiBaseUrl": suite.env.baseUrl,
      "wechat:componentAppId": DEMO_CREDENTIALS.componentAppId,
      "wechat:componentAppSecret": DEMO_CREDENTIALS.componentAppSecret,
      "wechat:componentVerifyTicket": DEMO_CREDENTIALS.componentVerifyTicket,
      "wechat:authorizerRefreshTokens": JSON.stringify({
        [appId]: DEMO_CREDENTIALS.authorizerRefreshToken,
        [other.appId]: other.refreshToken,
      }),
      "wechat:maxConcurrency": "1",
      "wechat:retryBaseDelayMs": "100",
    });
    suite.env.emulator.injectFault({ path: getPath, appId, errcode: 45011, times: 2 });
    await Promise.all([platform.create(create), platform.create({ ...create, authorizerAppId: other.appId })]);
    const order = suite.env.emulator
      .filter({ path: getPath })
      .map((request) => (request.appId === appId ? (request.errcode === 45011 ? "busy" : "ok") : "other"));
    // With one slot, a backoff that held it would leave the other account waiting until the storm was over.
    assert.deepEqual(order.slice(0, 1), ["busy"]);
    assert.ok(order.indexOf("other") < order.lastIndexOf("busy"), `the other account went on during the backoff: ${order.join(", ")}`);
    assert.equal(suite.env.emulator.options(appId).location_report, "1");
    assert.equal(suite.env.emulator.options(other.appId).location_report, "1");
  });

  it("a storm that outlasts wechat:maxAttempts gives up, saying how long it tried", async () => {
    suite.env.emulator.injectFault({ path: getPath, errcode: 45011 });
    const storm = await hostedProvider(
      "AuthorizerOption",
      suite.env.accountConfig({ "wechat:maxAttempts": "4", "wechat:retryBaseDelayMs": "5" }),
    );
    await assert.rejects(storm.create(create), /failed after 4 attempts over \d+\.\d s: errcode 45011 API minute-quota reached/);
    assert.equal(suite.env.emulator.filter({ path: getPath }).length, 4);
  });

  it("retries an answer slower than wechat:requestTimeoutMs", async () => {
    suite.env.emulator.injectFault({ path: getPath, delayMs: 1000, times: 1 });
    const fast = await hostedProvider("AuthorizerOption", suite.env.accountConfig({ "wechat:requestTimeoutMs": "200" }));
    const { outs } = await fast.create(create);
    assert.equal(outs.previousValue, "0");
    assert.equal(suite.env.emulator.filter({ path: getPath }).length, 2);
  });
});

describe("errors: no token or secret in what is thrown", () => {
  const suite = useSuite();
  it("network failures say what failed without the URL (got's message carries access_token)", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const token = suite.env.emulator.issueAccessToken(appId);
    const unreachable = await hostedProvider("AuthorizerOption", {
      "wechat:apiBaseUrl": `http://127.0.0.1:${closedPort}`,
      "wechat:accessToken": token,
      "wechat:appId": appId,
      "wechat:retryBaseDelayMs": "1",
      "wechat:maxAttempts": "2",
    });
    const error: Error = await unreachable.create(create).then(
      () => assert.fail("create should fail"),
      (e: Error) => e,
    );
    assert.match(error.message, /failed after 2 attempts over \d+\.\d s: network error ECONNREFUSED/);
    assert.doesNotMatch(`${error.message}\n${error.stack}`, new RegExp(token));
    assert.doesNotMatch(`${error.message}\n${error.stack}`, /access_token=/);
  });

  it("an errmsg that echoes the token is redacted", async () => {
    const token = suite.env.emulator.issueAccessToken(appId);
    suite.env.emulator.injectFault({
      path: getPath,
      errcode: 40164,
      errmsg: `invalid ip 1.2.3.4, not in whitelist, access_token=${token}`,
    });
    const tokenProvider = await hostedProvider("AuthorizerOption", {
      "wechat:apiBaseUrl": suite.env.baseUrl,
      "wechat:accessToken": token,
      "wechat:appId": appId,
    });
    const error: Error = await tokenProvider.create(create).then(
      () => assert.fail("create should fail"),
      (e: Error) => e,
    );
    assert.match(error.message, /access_token=\[redacted\]/);
    assert.doesNotMatch(`${error.message}\n${error.stack}`, new RegExp(token));
  });

  it("an errmsg's control characters and terminal escapes are removed, and no stack of our source follows", async () => {
    const forged = "bad ip\u001b[2K\r\u001b[32mResources: all unchanged\u001b[0m\n\u0007rid: 1";
    suite.env.emulator.injectFault({ path: getPath, errcode: 40164, errmsg: forged });
    const error: Error = await (await suite.provider()).create(create).then(
      () => assert.fail("create should fail"),
      (e: Error) => e,
    );
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(error.message, /[\u0000-\u001f\u007f]/);
    assert.match(error.message, /\(errmsg "bad ip Resources: all unchanged rid: 1"\)/);
    assert.equal(error.stack, "", "the host prints `${error}: ${error.stack}`: the message alone");
  });

  it("a wrong app secret is reported without the secret", async () => {
    const wrong = await hostedProvider("AuthorizerOption", suite.env.accountConfig({ "wechat:appSecret": "wrong-secret-value" }));
    const error: Error = await wrong.create(create).then(
      () => assert.fail("create should fail"),
      (e: Error) => e,
    );
    assert.match(error.message, /stable_token for authorizer wx0000000000000001 failed: errcode 40125 invalid appsecret/);
    assert.doesNotMatch(`${error.message}\n${error.stack}`, /wrong-secret-value/);
  });
});
