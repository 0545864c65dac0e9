/**
 * AuthorizerOption, driven as Pulumi's host drives it (serialized stub, configure, then CRUD) against the emulator.
 * Assertions are on what the emulator received and holds, and on what the provider hands back to Pulumi.
 */
import { strict as assert } from "node:assert";
import { UNKNOWN } from "../provider/resource";
import { OPTION_VALUES } from "../provider/types";
import { DEMO_CREDENTIALS, useEmulator } from "./support/emulator";
import { hostedProvider, newHostProcess, useHostedProvider } from "./support/providerHost";

const appId = DEMO_CREDENTIALS.appId;
const setPath = "/cgi-bin/component/set_authorizer_option";
const getPath = "/cgi-bin/component/get_authorizer_option";

/** The emulator and a hosted AuthorizerOption provider for each test. */
function useSuite() {
  const env = useEmulator();
  return Object.assign(
    useHostedProvider("AuthorizerOption", () => env.accountConfig()),
    { env },
  );
}

describe("AuthorizerOption: check", () => {
  const suite = useSuite();
  it("normalizes a numeric value to the API's string and defaults deleteBehavior to retain", async () => {
    const { inputs } = await suite.provider.check({}, { authorizerAppId: appId, optionName: "voice_recognize", optionValue: 1 });
    assert.deepEqual(inputs, { authorizerAppId: appId, optionName: "voice_recognize", optionValue: "1", deleteBehavior: "retain" });
  });

  it("rejects a value the option does not have, naming the property and the allowed values", async () => {
    const { failures } = await suite.provider.check({}, { authorizerAppId: appId, optionName: "voice_recognize", optionValue: 2 });
    assert.equal(failures?.length, 1);
    assert.equal(failures![0].property, "optionValue");
    assert.match(failures![0].reason, /voice_recognize: use one of 0, 1/);
  });

  it("makes no API call", async () => {
    await suite.provider.check({}, { authorizerAppId: appId, optionName: "location_report", optionValue: 2 });
    assert.equal(suite.env.emulator.callCounts().total, 0);
  });
});

describe("AuthorizerOption: create takes the option over", () => {
  const suite = useSuite();
  it("reads the current value, keeps it as previousValue, and sets the declared value", async () => {
    suite.env.emulator.setOption(appId, "location_report", "2");
    const { id, outs } = await suite.up({ authorizerAppId: appId, optionName: "location_report", optionValue: 1 });
    assert.equal(id, `${appId}/location_report`);
    assert.equal(outs.previousValue, "2");
    assert.equal(outs.optionValue, "1");
    assert.equal(suite.env.emulator.options(appId).location_report, "1");
    assert.deepEqual(
      suite.env.emulator.filter({ kind: "set" }).map((request) => request.body),
      [{ option_name: "location_report", option_value: "1" }],
    );
  });

  it("after a run killed before Pulumi recorded its create, takes the option over again with the declared value as previousValue", async () => {
    suite.env.emulator.setOption(appId, "location_report", "2");
    await suite.up({ authorizerAppId: appId, optionName: "location_report", optionValue: 1 }); // applied, never recorded
    suite.env.emulator.clearRequests();
    const { outs } = await suite.up({ authorizerAppId: appId, optionName: "location_report", optionValue: 1 });
    assert.equal(outs.previousValue, "1", "restore cannot go further back than the killed run");
    assert.equal(suite.env.emulator.filter({ kind: "set" }).length, 0);
  });

  it("sends no set when the account already holds the declared value", async () => {
    suite.env.emulator.setOption(appId, "customer_service", "1");
    const { outs } = await suite.up({ authorizerAppId: appId, optionName: "customer_service", optionValue: "1" });
    assert.equal(outs.previousValue, "1");
    assert.equal(suite.env.emulator.callCounts().set, 0);
    assert.equal(suite.env.emulator.callCounts().get, 1);
  });

  for (const [optionName, values] of Object.entries(OPTION_VALUES)) {
    for (const value of values) {
      it(`sets ${optionName} to ${value}`, async () => {
        suite.env.emulator.setOption(appId, optionName, value === "0" ? "1" : "0");
        await suite.up({ authorizerAppId: appId, optionName, optionValue: Number(value) });
        assert.equal(suite.env.emulator.options(appId)[optionName as keyof typeof OPTION_VALUES], value);
      });
    }
  }

  it("keeps the resource with the account's value when the set fails, so restore is not lost", async () => {
    suite.env.emulator.setOption(appId, "voice_recognize", "1");
    suite.env.emulator.injectFault({ path: setPath, errcode: 48001 });
    const checked = await suite.provider.check({}, { authorizerAppId: appId, optionName: "voice_recognize", optionValue: 0 });
    const failure = await suite.provider.create(checked.inputs).then(
      () => assert.fail("create should fail"),
      (error: { id?: string; properties?: Record<string, unknown>; message: string }) => error,
    );
    assert.equal(failure.id, `${appId}/voice_recognize`);
    assert.deepEqual(failure.properties, { ...checked.inputs, optionValue: "1", previousValue: "1" });
    assert.match(failure.message, /48001/);
    assert.equal(suite.env.emulator.options(appId).voice_recognize, "1");
  });
});

describe("AuthorizerOption: diff is local and exact", () => {
  const suite = useSuite();
  const olds = { authorizerAppId: appId, optionName: "location_report", optionValue: "1", deleteBehavior: "retain", previousValue: "0" };
  const news = (change: Record<string, unknown>) => ({
    authorizerAppId: appId,
    optionName: "location_report",
    optionValue: "1",
    deleteBehavior: "retain",
    ...change,
  });

  it("reports no change for the same value", async () => {
    assert.deepEqual(await suite.provider.diff("id", olds, news({})), { changes: false });
  });
  it("reports no change for 1 written as a number (check normalizes it)", async () => {
    const { inputs } = await suite.provider.check({}, news({ optionValue: 1 }));
    assert.deepEqual(await suite.provider.diff("id", olds, inputs), { changes: false });
  });
  it("updates in place when the value changes", async () => {
    assert.deepEqual(await suite.provider.diff("id", olds, news({ optionValue: "2" })), { changes: true });
  });
  it("updates in place when only deleteBehavior changes", async () => {
    assert.deepEqual(await suite.provider.diff("id", olds, news({ deleteBehavior: "restore" })), { changes: true });
  });
  it("replaces when the account changes", async () => {
    assert.deepEqual(await suite.provider.diff("id", olds, news({ authorizerAppId: "wx00000000000000ff" })), {
      changes: true,
      replaces: ["authorizerAppId"],
    });
  });
  it("replaces when the option changes", async () => {
    assert.deepEqual(await suite.provider.diff("id", olds, news({ optionName: "voice_recognize" })), {
      changes: true,
      replaces: ["optionName"],
    });
  });
  it("treats a value unknown during preview as a change", async () => {
    assert.deepEqual(await suite.provider.diff("id", olds, news({ optionValue: UNKNOWN })), {
      changes: true,
    });
  });
  it("makes no API call", async () => {
    await suite.provider.diff("id", olds, news({ optionValue: "2" }));
    assert.equal(suite.env.emulator.callCounts().total, 0);
  });
});

describe("AuthorizerOption: update", () => {
  const suite = useSuite();
  it("sets the new value and keeps previousValue", async () => {
    const created = await suite.up({ authorizerAppId: appId, optionName: "location_report", optionValue: 1 });
    const { inputs } = await suite.provider.check(created.inputs, {
      authorizerAppId: appId,
      optionName: "location_report",
      optionValue: 2,
    });
    const { outs } = await suite.provider.update(created.id, created.outs, inputs);
    assert.equal(suite.env.emulator.options(appId).location_report, "2");
    assert.equal(outs.previousValue, "0");
    assert.equal(outs.optionValue, "2");
  });

  it("makes no API call when only deleteBehavior changes", async () => {
    const created = await suite.up({ authorizerAppId: appId, optionName: "location_report", optionValue: 1 });
    suite.env.emulator.clearRequests();
    const { inputs } = await suite.provider.check(created.inputs, { ...created.inputs, deleteBehavior: "reset" });
    const { outs } = await suite.provider.update(created.id, created.outs, inputs);
    assert.equal(outs.deleteBehavior, "reset");
    assert.equal(suite.env.emulator.callCounts().total, 0);
  });
});

describe("AuthorizerOption: read (refresh) tells the truth", () => {
  const suite = useSuite();
  it("reports an out-of-band change as the option's value", async () => {
    const created = await suite.up({ authorizerAppId: appId, optionName: "voice_recognize", optionValue: 1 });
    suite.env.emulator.setOption(appId, "voice_recognize", "0");
    const { id, props } = await suite.provider.read(created.id, created.outs);
    assert.equal(id, created.id);
    assert.equal(props.optionValue, "0");
    assert.equal(props.previousValue, "0");
    assert.deepEqual(await suite.provider.diff(id, props, created.inputs), { changes: true });
    assert.equal(suite.env.emulator.filter({ path: getPath }).length, 2);
  });
});

describe("AuthorizerOption: delete follows deleteBehavior", () => {
  const suite = useSuite();
  /** `pulumi destroy` runs in a new host process. */
  async function destroy(id: string, outs: Record<string, unknown>) {
    newHostProcess();
    await (await hostedProvider("AuthorizerOption", suite.env.accountConfig())).delete(id, outs);
  }
  async function destroyWith(deleteBehavior: string) {
    suite.env.emulator.setOption(appId, "location_report", "2");
    const created = await suite.up({ authorizerAppId: appId, optionName: "location_report", optionValue: 1, deleteBehavior });
    suite.env.emulator.clearRequests();
    await destroy(created.id, created.outs);
  }

  it("retain leaves the account as it is and calls nothing", async () => {
    await destroyWith("retain");
    assert.equal(suite.env.emulator.options(appId).location_report, "1");
    assert.equal(suite.env.emulator.callCounts().total, 0);
  });
  it("reset sets the option to 0", async () => {
    await destroyWith("reset");
    assert.equal(suite.env.emulator.options(appId).location_report, "0");
  });
  it("restore puts back the value seen before create", async () => {
    await destroyWith("restore");
    assert.equal(suite.env.emulator.options(appId).location_report, "2");
  });
  it("leaves the option to a resource that took it over in the same deployment (a rename without an alias)", async () => {
    suite.env.emulator.setOption(appId, "location_report", "2");
    const old = await suite.up({ authorizerAppId: appId, optionName: "location_report", optionValue: 1, deleteBehavior: "reset" });
    // Pulumi creates the renamed resource first (same setting, so same id), then deletes the old one.
    const renamed = await hostedProvider("AuthorizerOption", suite.env.accountConfig());
    const checked = await renamed.check({}, { ...old.inputs });
    const created = await renamed.create(checked.inputs);
    assert.equal(created.id, old.id);
    await renamed.delete(old.id, old.outs);
    assert.equal(suite.env.emulator.options(appId).location_report, "1");
    assert.equal(suite.env.emulator.callCounts().set, 1);
  });

  it("reset sends the value even when state believes the account holds it (state may be stale)", async () => {
    const created = await suite.up({ authorizerAppId: appId, optionName: "voice_recognize", optionValue: 0, deleteBehavior: "reset" });
    suite.env.emulator.setOption(appId, "voice_recognize", "1");
    await destroy(created.id, created.outs);
    assert.equal(suite.env.emulator.options(appId).voice_recognize, "0");
  });
});
