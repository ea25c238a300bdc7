import { PackagedResource } from './plan';
import { HANDLER_LOADER_HANDLER, REAL_HANDLER_ENV } from '../zip/nested-loader';

/** Where a packaged resource's zip went, and what the nested loader needs. */
export interface UploadedCode {
  readonly resource: PackagedResource;
  readonly bucket: string;
  readonly key: string;
  /** Set when the bundle is nested: the /tmp size to ask for, in MB. */
  readonly nestedEphemeralMb?: number;
}

/**
 * The deployment template: each packaged resource points at its uploaded zip
 * (`s3://` URIs for SAM resources, S3Bucket/S3Key for AWS::Lambda::Function), and a nested
 * function gets the loader handler, POSSUM_HANDLER beside its own variables, and /tmp.
 * Everything else is left exactly as it was. The input is not modified.
 */
export function deploymentTemplate(template: any, uploads: readonly UploadedCode[]): any {
  const out = JSON.parse(JSON.stringify(template));
  for (const u of uploads) {
    const resource = out.Resources[u.resource.logicalId];
    const props = resource.Properties = resource.Properties ?? {};
    switch (u.resource.type) {
      case 'AWS::Serverless::Function':
        props.CodeUri = `s3://${u.bucket}/${u.key}`;
        break;
      case 'AWS::Serverless::LayerVersion':
        props.ContentUri = `s3://${u.bucket}/${u.key}`;
        break;
      case 'AWS::Lambda::Function':
        props.Code = { S3Bucket: u.bucket, S3Key: u.key };
        break;
    }
    if (u.nestedEphemeralMb !== undefined) {
      props.Handler = HANDLER_LOADER_HANDLER;
      props.Environment = props.Environment ?? {};
      props.Environment.Variables = { ...(props.Environment.Variables ?? {}), [REAL_HANDLER_ENV]: u.resource.handler };
      props.EphemeralStorage = { Size: u.nestedEphemeralMb };
    }
  }
  return out;
}
