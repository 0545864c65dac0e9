import * as pulumi from "@pulumi/pulumi";
import * as provider from "../provider/authorizerOption";
import type { AuthorizerOptionArgs as Inputs, AuthorizerOptionOutputs } from "../provider/types";
import { providerFor, secretWith } from "./handover";
import { Args, Outputs, withoutPrototypeKeys } from "./inputs";

/** The arguments of an `AuthorizerOption`; see the README's reference for each property. */
export type AuthorizerOptionArgs = Args<Inputs>;

/** The provider object handed to Pulumi (exported for the tests that serialize it as Pulumi does). */
export const authorizerOptionProvider = providerFor(
  provider,
  require.resolve("../provider/authorizerOption"),
  "pulumi-wechat/provider/authorizer-option",
);

/**
 * One option of an authorized WeChat account: `location_report`, `voice_recognize` or `customer_service`.
 *
 * Creating the resource takes the option over (it always exists on the account): the value found there is kept as
 * `previousValue`, secret whenever `optionValue` is. Id: `<authorizerAppId>/<optionName>`.
 *
 * @example
 * new wechat.AuthorizerOption("location", {
 *   authorizerAppId: "wx1234567890abcdef",
 *   optionName: "location_report",
 *   optionValue: 1,
 * });
 */
export class AuthorizerOption extends pulumi.dynamic.Resource {
  declare readonly authorizerAppId: Outputs<AuthorizerOptionOutputs>["authorizerAppId"];
  declare readonly optionName: Outputs<AuthorizerOptionOutputs>["optionName"];
  /** The value as the API's string, e.g. "1". */
  declare readonly optionValue: Outputs<AuthorizerOptionOutputs>["optionValue"];
  declare readonly deleteBehavior: Outputs<AuthorizerOptionOutputs>["deleteBehavior"];
  /** The option's value before this resource first set it; `deleteBehavior: "restore"` puts it back. */
  declare readonly previousValue: Outputs<AuthorizerOptionOutputs>["previousValue"];

  constructor(name: string, args: AuthorizerOptionArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = { ...withoutPrototypeKeys("AuthorizerOption", name, args), previousValue: secretWith(args.optionValue) };
    super(authorizerOptionProvider, name, inputs, opts, "wechat", "AuthorizerOption");
  }
}
