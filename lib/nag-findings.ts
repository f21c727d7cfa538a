import { type CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 identifies each IAM5 wildcard finding by the flattened resource it names, e.g.
 * `AwsSolutions-IAM5[Resource::<ReturnsBucket1A2B.Arn>/*]`. These build those ids from the
 * construct, so acknowledgements survive renames of logical ids.
 */
function arnOf(resource: IConstruct): string {
  const cfn = resource.node.defaultChild as CfnElement;
  return `<${Stack.of(resource).getLogicalId(cfn)}.Arn>`;
}

/** The finding for `<resource ARN>/<suffix>` (object keys under a bucket, indexes of a table). */
export function wildcardUnder(resource: IConstruct, suffix: string): string {
  return `AwsSolutions-IAM5[Resource::${arnOf(resource)}/${suffix}]`;
}

/** The finding for `<function ARN>:*` (every version and alias of a function). */
export function anyVersionOf(fn: IConstruct): string {
  return `AwsSolutions-IAM5[Resource::${arnOf(fn)}:*]`;
}

/** The finding for a wildcard action such as `kms:GenerateDataKey*`. */
export function wildcardAction(action: string): string {
  return `AwsSolutions-IAM5[Action::${action}]`;
}
