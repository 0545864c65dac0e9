import * as pulumi from "@pulumi/pulumi";
import * as provider from "../provider/callbackConfig";
import type { CallbackConfigArgs as Inputs, CallbackConfigOutputs } from "../provider/types";
import { providerFor, secretWith } from "./handover";
import { Args, Outputs, withoutPrototypeKeys } from "./inputs";

/** The arguments of a `CallbackConfig`; see the README's reference for each property. */
export type CallbackConfigArgs = Args<Inputs>;

/** The provider object handed to Pulumi (exported for the tests that serialize it as Pulumi does). */
export const callbackConfigProvider = providerFor(
  provider,
  require.resolve("../provider/callbackConfig"),
  "pulumi-wechat/provider/callback-config",
);

/**
 * The CloudBase message-push configuration of an authorized WeChat account: which cloud functions
 * (`functionConfig`) or cloud-hosting container (`containerConfig`) receive its messages. A section left out is
 * not managed: it is never sent and stays as it is on the account.
 *
 * Creating the resource takes the managed sections over: what the account had is kept as `previousConfig`, secret
 * whenever a managed section holds a secret. Id: `<authorizerAppId>/callback-config`.
 *
 * @example
 * new wechat.CallbackConfig("push", {
 *   authorizerAppId: "wx1234567890abcdef",
 *   functionConfig: {
 *     enable: true,
 *     callbacks: [{ msgType: "event", event: "user_enter_tempsession", env: "prod-6gni9ity244a6ea3", functionName: "callback", enable: true }],
 *   },
 * });
 */
export class CallbackConfig extends pulumi.dynamic.Resource {
  declare readonly authorizerAppId: Outputs<CallbackConfigOutputs>["authorizerAppId"];
  declare readonly functionConfig: Outputs<CallbackConfigOutputs>["functionConfig"];
  declare readonly containerConfig: Outputs<CallbackConfigOutputs>["containerConfig"];
  declare readonly deleteBehavior: Outputs<CallbackConfigOutputs>["deleteBehavior"];
  /** The managed sections as they were before this resource first set them; `deleteBehavior: "restore"` puts them back. */
  declare readonly previousConfig: Outputs<CallbackConfigOutputs>["previousConfig"];

  constructor(name: string, args: CallbackConfigArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = {
      ...withoutPrototypeKeys("CallbackConfig", name, args),
      previousConfig: secretWith(args.functionConfig, args.containerConfig),
    };
    super(callbackConfigProvider, name, inputs, opts, "wechat", "CallbackConfig");
  }
}
