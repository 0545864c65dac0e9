/**
 * Bad input is caught at preview time, by check, with no API call: each case names the property path and a reason a
 * person can act on. Values unknown during preview pass. A property-based test shows check never throws and that
 * whatever it accepts, the API accepts too.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { UNKNOWN } from "../provider/resource";
import { DEMO_CREDENTIALS, useEmulator } from "./support/emulator";
import { HostedProvider, evaluateProvider, hostedProvider, serializedProvider, stackConfig } from "./support/providerHost";

const appId = DEMO_CREDENTIALS.appId;
const option = { authorizerAppId: appId, optionName: "location_report", optionValue: 1 };
const callback = { msgType: "text", env: "prod-env-1", functionName: "onText", enable: true };
const container = { enable: true, qbaseEnv: "prod-env-1", qbaseContainerPath: "/push", textMode: 1 };
const push = { authorizerAppId: appId, functionConfig: { enable: true, callbacks: [callback] }, containerConfig: container };
const withCallback = (change: Record<string, unknown>) => ({
  ...push,
  functionConfig: { enable: true, callbacks: [{ ...callback, ...change }] },
});
const withContainer = (change: Record<string, unknown>) => ({ ...push, containerConfig: { ...container, ...change } });
const without = <T extends object>(value: T, key: keyof T) => {
  const copy = { ...value };
  delete copy[key];
  return copy;
};

type Case = readonly [description: string, inputs: Record<string, unknown>, property: string, reason: RegExp];

const AUTHORIZER_OPTION_CASES: Case[] = [
  [
    "missing authorizerAppId",
    without(option, "authorizerAppId"),
    "authorizerAppId",
    /is required: an appid: wx followed by 16 lowercase hex characters/,
  ],
  ["authorizerAppId as a number", { ...option, authorizerAppId: 42 }, "authorizerAppId", /must be an appid: .*, got the number 42/],
  ["authorizerAppId as a boolean", { ...option, authorizerAppId: true }, "authorizerAppId", /must be an appid: .*, got true \(a boolean\)/],
  ["authorizerAppId too short", { ...option, authorizerAppId: "wx1234" }, "authorizerAppId", /wx followed by 16 lowercase hex characters/],
  [
    "authorizerAppId in upper case",
    { ...option, authorizerAppId: "WX0000000000000001" },
    "authorizerAppId",
    /wx followed by 16 lowercase hex/,
  ],
  [
    "authorizerAppId with a non-hex character",
    { ...option, authorizerAppId: "wx000000000000000g" },
    "authorizerAppId",
    /wx followed by 16/,
  ],
  ["authorizerAppId with a trailing space", { ...option, authorizerAppId: `${appId} ` }, "authorizerAppId", /wx followed by 16/],
  ["oversized authorizerAppId", { ...option, authorizerAppId: `wx${"a".repeat(5000)}` }, "authorizerAppId", /wx followed by 16/],
  [
    "missing optionName",
    without(option, "optionName"),
    "optionName",
    /is required: one of location_report, voice_recognize, customer_service/,
  ],
  [
    "unknown optionName",
    { ...option, optionName: "auto_reply" },
    "optionName",
    /must be one of location_report, voice_recognize, customer_service, got a string/,
  ],
  ["optionName in camelCase", { ...option, optionName: "locationReport" }, "optionName", /must be one of/],
  ["missing optionValue", without(option, "optionValue"), "optionValue", /is required: a number or a numeric string/],
  [
    "optionValue as a boolean",
    { ...option, optionValue: true },
    "optionValue",
    /must be a number or a numeric string, e\.g\. 1, got true \(a boolean\)/,
  ],
  ["optionValue NaN", { ...option, optionValue: NaN }, "optionValue", /must be a number or a numeric string, e\.g\. 1, got NaN/],
  [
    "optionValue Infinity",
    { ...option, optionValue: Infinity },
    "optionValue",
    /must be a number or a numeric string, e\.g\. 1, got Infinity/,
  ],
  [
    "optionValue as an object",
    { ...option, optionValue: {} },
    "optionValue",
    /must be a number or a numeric string, e\.g\. 1, got an object/,
  ],
  ["optionValue as a list", { ...option, optionValue: [] }, "optionValue", /must be a number or a numeric string, e\.g\. 1, got a list/],
  ["location_report 3", { ...option, optionValue: 3 }, "optionValue", /is not a value of location_report: use one of 0, 1, 2/],
  ["location_report -1", { ...option, optionValue: -1 }, "optionValue", /use one of 0, 1, 2/],
  ["location_report 1.5", { ...option, optionValue: 1.5 }, "optionValue", /use one of 0, 1, 2/],
  ['location_report "on"', { ...option, optionValue: "on" }, "optionValue", /use one of 0, 1, 2/],
  ["voice_recognize 2", { ...option, optionName: "voice_recognize", optionValue: 2 }, "optionValue", /voice_recognize: use one of 0, 1/],
  [
    'customer_service " 1"',
    { ...option, optionName: "customer_service", optionValue: " 1" },
    "optionValue",
    /customer_service: use one of 0, 1/,
  ],
  [
    "unknown deleteBehavior",
    { ...option, deleteBehavior: "disable" },
    "deleteBehavior",
    /must be one of "retain", "reset", "restore", got a string/,
  ],
  ["unknown property", { ...option, option_value: "1" }, "(inputs)", /unknown property "option_value": remove it/],
  [
    "an own __proto__ key (from a JSON text)",
    JSON.parse(`{"authorizerAppId":"${appId}","optionName":"location_report","optionValue":1,"__proto__":{"deleteBehavior":"reset"}}`),
    "__proto__",
    /is not a property name these resources use: remove the "__proto__" key/,
  ],
];

const CALLBACK_CONFIG_CASES: Case[] = [
  ["neither section", { authorizerAppId: appId }, "(inputs)", /set functionConfig, containerConfig or both/],
  ["missing authorizerAppId", without(push, "authorizerAppId"), "authorizerAppId", /is required: an appid/],
  ["malformed authorizerAppId", { ...push, authorizerAppId: "gh_1234567890ab" }, "authorizerAppId", /wx followed by 16/],
  [
    "functionConfig as a string",
    { ...push, functionConfig: "on" },
    "functionConfig",
    /must be an object: \{ enable, callbacks \}, got a string/,
  ],
  [
    "callbacks as an object",
    { ...push, functionConfig: { enable: true, callbacks: callback } },
    "functionConfig.callbacks",
    /must be a list of callback rules, got an object/,
  ],
  [
    "a callback without env",
    { ...push, functionConfig: { callbacks: [without(callback, "env")] } },
    "functionConfig.callbacks[0].env",
    /is required: the CloudBase environment id/,
  ],
  ["an empty env", withCallback({ env: "" }), "functionConfig.callbacks[0].env", /must not be empty/],
  [
    "env as a number",
    withCallback({ env: 123 }),
    "functionConfig.callbacks[0].env",
    /must be the CloudBase environment id, .*got the number 123/,
  ],
  ["an env with a space", withCallback({ env: "prod env" }), "functionConfig.callbacks[0].env", /must be a CloudBase environment id/],
  ["an oversized env", withCallback({ env: "e".repeat(65) }), "functionConfig.callbacks[0].env", /longer than 64 characters/],
  [
    "an empty functionName",
    withCallback({ functionName: "" }),
    "functionConfig.callbacks[0].functionName",
    /must not be empty: give the cloud function's name/,
  ],
  [
    "a functionName starting with a digit",
    withCallback({ functionName: "1fn" }),
    "functionConfig.callbacks[0].functionName",
    /a letter, then letters, digits/,
  ],
  [
    "an oversized functionName",
    withCallback({ functionName: "f".repeat(61) }),
    "functionConfig.callbacks[0].functionName",
    /at most 60 characters/,
  ],
  ["msgType in upper case", withCallback({ msgType: "TEXT" }), "functionConfig.callbacks[0].msgType", /WeChat message type in lowercase/],
  [
    "msgType as a boolean",
    withCallback({ msgType: true }),
    "functionConfig.callbacks[0].msgType",
    /must be a WeChat message type .*, got true \(a boolean\)/,
  ],
  [
    "a missing msgType",
    { ...push, functionConfig: { callbacks: [without(callback, "msgType")] } },
    "functionConfig.callbacks[0].msgType",
    /is required: a WeChat message type/,
  ],
  [
    "an event message without event",
    withCallback({ msgType: "event" }),
    "functionConfig.callbacks[0].event",
    /is required when msgType is "event"/,
  ],
  [
    "an event on a text message",
    withCallback({ event: "subscribe" }),
    "functionConfig.callbacks[0].event",
    /must be empty for msgType "text"/,
  ],
  ["enable as a string", withCallback({ enable: "true" }), "functionConfig.callbacks[0].enable", /must be true or false, got a string/],
  [
    "a snake_case key in a callback",
    withCallback({ function_name: "x" }),
    "functionConfig.callbacks[0]",
    /unknown property "function_name"/,
  ],
  [
    "duplicate callbacks",
    { ...push, functionConfig: { callbacks: [callback, { ...callback, functionName: "other" }] } },
    "functionConfig.callbacks[1]",
    /duplicates callbacks\[0\] \(msgType "text"\): keep one rule per message type and event/,
  ],
  [
    "too many callbacks",
    { ...push, functionConfig: { callbacks: Array.from({ length: 101 }, (_, i) => ({ ...callback, msgType: "event", event: `e${i}` })) } },
    "functionConfig.callbacks",
    /at most 100 callbacks/,
  ],
  ["textMode 3", withContainer({ textMode: 3 }), "containerConfig.textMode", /must be 1 \(JSON\) or 2 \(XML\)/],
  ['textMode "1"', withContainer({ textMode: "1" }), "containerConfig.textMode", /must be 1 \(JSON\) or 2 \(XML\)/],
  [
    "a container path without a leading /",
    withContainer({ qbaseContainerPath: "container-echo" }),
    "containerConfig.qbaseContainerPath",
    /must start with "\/"/,
  ],
  [
    "a container path with a space (the seed's typo style)",
    withContainer({ qbaseContainerPath: "/container echo" }),
    "containerConfig.qbaseContainerPath",
    /no spaces/,
  ],
  [
    "an oversized container path",
    withContainer({ qbaseContainerPath: `/${"p".repeat(300)}` }),
    "containerConfig.qbaseContainerPath",
    /at most 256 characters/,
  ],
  [
    "a missing qbaseEnv",
    { ...push, containerConfig: without(container, "qbaseEnv") },
    "containerConfig.qbaseEnv",
    /is required: the CloudBase environment id/,
  ],
  ["the API's snake_case key", withContainer({ qbase_env: "x" }), "containerConfig", /unknown property "qbase_env"/],
  ["unknown deleteBehavior", { ...push, deleteBehavior: "reset" }, "deleteBehavior", /must be one of "retain", "disable", "restore"/],
  ["the API's section name", { authorizerAppId: appId, container_config: container }, "(inputs)", /unknown property "container_config"/],
  [
    "an own __proto__ key inside a section (it must not become defaults)",
    {
      authorizerAppId: appId,
      containerConfig: JSON.parse('{"__proto__":{"enable":false},"qbaseEnv":"e1","qbaseContainerPath":"/p","textMode":1}'),
    },
    "containerConfig.__proto__",
    /remove the "__proto__" key/,
  ],
];

describe("check", () => {
  const env = useEmulator();
  const providers: Record<string, HostedProvider> = {};
  beforeEach(async () => {
    providers.AuthorizerOption = await hostedProvider("AuthorizerOption", env.accountConfig());
    providers.CallbackConfig = await hostedProvider("CallbackConfig", env.accountConfig());
  });
  afterEach(() => assert.equal(env.emulator.callCounts().total, 0, "check makes no API call"));

  for (const [resource, cases] of [
    ["AuthorizerOption", AUTHORIZER_OPTION_CASES],
    ["CallbackConfig", CALLBACK_CONFIG_CASES],
  ] as const) {
    describe(`${resource} rejects bad input with the property path and the reason`, () => {
      for (const [description, inputs, property, reason] of cases) {
        it(`${description} → ${property}`, async () => {
          const result = await providers[resource].check({}, { ...inputs, __provider: "stub" });
          assert.equal(result.inputs, undefined);
          const failure = result.failures?.find((candidate) => candidate.property === property);
          assert.ok(failure, `a failure at ${property}; got ${JSON.stringify(result.failures)}`);
          assert.match(failure.reason, reason);
        });
      }
    });
  }

  describe("values unknown during preview pass", () => {
    it("an unknown optionValue", async () => {
      const result = await providers.AuthorizerOption.check({}, { ...option, optionValue: UNKNOWN });
      assert.deepEqual(result, { inputs: { ...option, optionValue: UNKNOWN } });
    });
    it("an unknown env inside a callback (an output of another resource)", async () => {
      const result = await providers.CallbackConfig.check({}, withCallback({ env: UNKNOWN }));
      assert.equal(result.failures, undefined);
    });
    it("a whole unknown section", async () => {
      const result = await providers.CallbackConfig.check({}, { authorizerAppId: appId, containerConfig: UNKNOWN });
      assert.equal(result.failures, undefined);
    });
    it("but not known mistakes beside them", async () => {
      const result = await providers.CallbackConfig.check(
        {},
        { ...withCallback({ env: UNKNOWN }), containerConfig: { ...container, textMode: 5 } },
      );
      assert.deepEqual(
        result.failures?.map((failure) => failure.property),
        ["containerConfig.textMode"],
      );
    });
  });
});

describe("check: one setting, one owner", () => {
  const env = useEmulator();
  const declare = async (provider: HostedProvider, inputs: Record<string, unknown>) => (await provider.check({}, inputs)).failures;

  it("refuses a second declaration of the same setting that says something else, naming the property", async () => {
    const provider = await hostedProvider("AuthorizerOption", env.accountConfig());
    assert.equal(await declare(provider, option), undefined);
    const failures = await declare(provider, { ...option, optionValue: 2 });
    assert.equal(failures?.[0].property, "optionName");
    assert.match(
      failures![0].reason,
      /another resource of this program already manages wx0000000000000001\/location_report, declared otherwise/,
    );
  });

  it("accepts the same declaration checked again (the engine checks a replacement twice)", async () => {
    const provider = await hostedProvider("CallbackConfig", env.accountConfig());
    assert.equal(await declare(provider, push), undefined);
    assert.equal(await declare(provider, push), undefined);
  });

  it("starts afresh in each deployment (each host process)", async () => {
    assert.equal(await declare(await hostedProvider("AuthorizerOption", env.accountConfig()), option), undefined);
    assert.equal(await declare(await hostedProvider("AuthorizerOption", env.accountConfig()), { ...option, optionValue: 2 }), undefined);
  });

  it("keeps the deployment's claims when the host loads and configures the module again (a resource saved by another package version)", async () => {
    // The host configures each distinct `__provider` text it loads; both texts here require the one module.
    const first = await hostedProvider("AuthorizerOption", env.accountConfig());
    assert.equal(await declare(first, option), undefined);
    const second = evaluateProvider(await serializedProvider("AuthorizerOption"));
    await second.configure({ config: stackConfig(env.accountConfig()) });
    assert.match((await declare(second, { ...option, optionValue: 2 }))?.[0]?.reason ?? "", /already manages/);
  });
});

// Inputs for the property below, weighted toward valid values so that a good share of runs reach the API.
const appIds = fc.oneof({ arbitrary: fc.constant(appId), weight: 6 }, fc.string(), fc.integer(), fc.constant(undefined));
const optionInputs = fc.record(
  {
    authorizerAppId: appIds,
    optionName: fc.oneof({ arbitrary: fc.constantFrom("location_report", "voice_recognize", "customer_service"), weight: 6 }, fc.string()),
    optionValue: fc.oneof(
      { arbitrary: fc.constantFrom(0, 1, 2, "0", "1", "2"), weight: 6 },
      fc.integer({ min: -1, max: 3 }),
      fc.constantFrom("01", ""),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
    ),
    deleteBehavior: fc.constantFrom("retain", "reset", "restore", "destroy"),
    extra: fc.anything(),
  },
  { requiredKeys: ["authorizerAppId", "optionName", "optionValue"] },
);
const names = fc.oneof(fc.constantFrom("prod-env-1", "test_env", "a"), fc.string({ maxLength: 70 }));
const callbacks = fc.array(
  fc.record(
    {
      msgType: fc.oneof(fc.constantFrom("text", "image", "event", "miniprogrampage"), fc.string({ maxLength: 5 })),
      event: fc.constantFrom("", "user_enter_tempsession", "subscribe", "bad event"),
      env: names,
      functionName: fc.oneof(fc.constantFrom("callback", "on-text", "f_1"), fc.string({ maxLength: 70 })),
      enable: fc.oneof(fc.boolean(), fc.constant("yes")),
    },
    { requiredKeys: ["msgType", "env", "functionName"] },
  ),
  { maxLength: 4 },
);
const pushInputs = fc.record(
  {
    authorizerAppId: appIds,
    functionConfig: fc.oneof(fc.record({ enable: fc.boolean(), callbacks }, { requiredKeys: [] }), fc.anything()),
    containerConfig: fc.record(
      {
        enable: fc.boolean(),
        qbaseEnv: names,
        qbaseContainerPath: fc.oneof(fc.constantFrom("/push", "/a/b", "push"), fc.string({ maxLength: 300 })),
        textMode: fc.oneof(fc.constantFrom(1, 2), fc.integer(), fc.constant("1")),
      },
      { requiredKeys: [] },
    ),
    deleteBehavior: fc.constantFrom("retain", "disable", "restore", "reset"),
  },
  { requiredKeys: [] },
);

describe("check, for any input", () => {
  const env = useEmulator();
  for (const [resource, arbitrary] of [
    ["AuthorizerOption", optionInputs],
    ["CallbackConfig", pushInputs],
  ] as const) {
    it(`${resource}: never throws, answers failures or inputs, and what it accepts the API accepts`, async () => {
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(arbitrary, async (news) => {
          // Each run is a deployment of its own: a program may declare each setting once.
          const provider = await hostedProvider(resource, env.accountConfig());
          const result = await provider.check({}, news as Record<string, unknown>);
          assert.ok((result.inputs === undefined) !== (result.failures === undefined), "exactly one of inputs and failures");
          if (result.failures) {
            assert.ok(result.failures.length > 0);
            for (const failure of result.failures) {
              assert.equal(typeof failure.property, "string");
              assert.ok(failure.reason.length > 0);
            }
            return;
          }
          accepted++;
          const { outs } = await provider.create(result.inputs);
          if (resource === "AuthorizerOption") {
            assert.equal(env.emulator.options(appId)[outs.optionName as "location_report"], outs.optionValue);
          } else if (outs.containerConfig) {
            assert.equal(env.emulator.callbackConfig(appId).container_config.qbase_container_path, outs.containerConfig.qbaseContainerPath);
          }
        }),
        { numRuns: 300, seed: 20261122 },
      );
      assert.ok(accepted > 0, "the generator produced some valid inputs");
    });
  }
});
