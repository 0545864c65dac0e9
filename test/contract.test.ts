/**
 * The contract suite: the same provider against the real WeChat API, to catch the emulator drifting from it.
 * It runs only when real credentials are in the environment (like Terraform's acceptance tests) and is skipped,
 * saying why, otherwise. It changes nothing on the account: it reads each setting and then "creates" it with the value it read,
 * which the provider recognizes as already in place (no set call).
 *
 *   WECHAT_CONTRACT_APP_ID=wx...  plus the provider's usual WECHAT_* credentials (see the README), e.g.
 *   WECHAT_APP_ID=wx... WECHAT_APP_SECRET=... npm test
 */
import { strict as assert } from "node:assert";
import { OPTION_VALUES } from "../provider/types";
import { HostedProvider, hostedProvider } from "./support/providerHost";

const appId = process.env.WECHAT_CONTRACT_APP_ID;

describe("contract with the real WeChat API", function () {
  let options: HostedProvider;
  let push: HostedProvider;

  before(async function () {
    if (!appId) {
      console.log("    (skipped: set WECHAT_CONTRACT_APP_ID and real WECHAT_* credentials to run the contract suite)");
      this.skip();
    }
    // No `wechat:` stack config: the provider reads the WECHAT_* variables, as in a CI job.
    options = await hostedProvider("AuthorizerOption", {});
    push = await hostedProvider("CallbackConfig", {});
  });

  for (const optionName of Object.keys(OPTION_VALUES)) {
    it(`reads ${optionName} and takes it over without changing it`, async () => {
      const { inputs } = await options.check({}, { authorizerAppId: appId, optionName, optionValue: "0" });
      const current = await options.read(`${appId}/${optionName}`, { ...inputs, previousValue: "0" });
      assert.ok((OPTION_VALUES as Record<string, readonly string[]>)[optionName].includes(current.props.optionValue));
      const { outs } = await options.create({ ...inputs, optionValue: current.props.optionValue });
      assert.equal(outs.previousValue, current.props.optionValue);
    });
  }

  it("reads the CloudBase push configuration in the documented shape", async () => {
    const managed = {
      functionConfig: { enable: false, callbacks: [] },
      containerConfig: { enable: false, qbaseEnv: "x", qbaseContainerPath: "/x", textMode: 1 },
    };
    const { props } = await push.read(`${appId}/callback-config`, {
      authorizerAppId: appId,
      ...managed,
      deleteBehavior: "retain",
      previousConfig: {},
    });
    assert.equal(typeof props.functionConfig.enable, "boolean");
    assert.ok(Array.isArray(props.functionConfig.callbacks));
    assert.ok([1, 2].includes(props.containerConfig.textMode));
  });
});
