import * as fs from 'fs';
import * as path from 'path';
import * as tls from 'tls';
import { awsCaBundle, awsRegion, profileSetting, s3Connection } from '../../src/private/aws-config';
import { tempDir } from '../helpers/run';

describe('S3 connection settings as the AWS CLI finds them', () => {
  const dir = tempDir('aws-config');
  const config = path.join(dir, 'config');
  fs.writeFileSync(config, [
    '[default]', 'region = us-west-2',
    '[profile corp]', 'region=eu-west-2', `ca_bundle = ${path.join(dir, 'corp.pem')}`,
    '# a comment', '[corp-without-prefix]', 'region = ap-south-1',
  ].join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'corp.pem'), 'not parsed here\n');
  const base = { AWS_CONFIG_FILE: config };

  test('the profile: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else default; other profiles are [profile NAME]', () => {
    expect(profileSetting('region', base)).toEqual({ value: 'us-west-2', from: `region of profile default in ${config}` });
    expect(profileSetting('region', { ...base, AWS_PROFILE: 'corp' })?.value).toBe('eu-west-2');
    expect(profileSetting('region', { ...base, AWS_DEFAULT_PROFILE: 'corp' })?.value).toBe('eu-west-2');
    expect(profileSetting('region', { ...base, AWS_PROFILE: 'corp-without-prefix' })).toBeUndefined();
    expect(profileSetting('region', { AWS_CONFIG_FILE: path.join(dir, 'missing') })).toBeUndefined();
  });

  test('keys in the environment come before AWS_PROFILE, as the AWS CLI takes them', () => {
    const keys = { AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'secret' };
    expect(s3Connection(undefined, { ...base, ...keys, AWS_PROFILE: 'corp-without-prefix', AWS_CA_BUNDLE: undefined }).credentials)
      .toEqual({ accessKeyId: 'AKIAENV', secretAccessKey: 'secret' });
    expect(s3Connection(undefined, { ...base, ...keys, AWS_SESSION_TOKEN: 't', AWS_DEFAULT_PROFILE: 'x' }).credentials)
      .toEqual({ accessKeyId: 'AKIAENV', secretAccessKey: 'secret', sessionToken: 't' });
    // Without a profile named the SDK takes the keys itself; without keys, the profile's.
    expect(s3Connection(undefined, { ...base, ...keys }).credentials).toBeUndefined();
    expect(s3Connection(undefined, { ...base, AWS_PROFILE: 'corp-without-prefix' }).credentials).toBeUndefined();
  });

  test('the region: given, AWS_REGION, AWS_DEFAULT_REGION, the profile\'s; us-east-1 when nothing names one', () => {
    const env = { ...base, AWS_PROFILE: 'corp' };
    expect(awsRegion('sa-east-1', { ...env, AWS_REGION: 'x' })?.value).toBe('sa-east-1');
    expect(awsRegion(undefined, { ...env, AWS_REGION: 'ca-central-1', AWS_DEFAULT_REGION: 'x' })?.value).toBe('ca-central-1');
    expect(awsRegion(undefined, { ...env, AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual({ value: 'eu-north-1', from: 'AWS_DEFAULT_REGION' });
    expect(awsRegion(undefined, env)?.value).toBe('eu-west-2');
    expect(s3Connection(undefined, { AWS_CONFIG_FILE: path.join(dir, 'missing') }))
      .toEqual({ region: 'us-east-1', requestHandler: { connectionTimeout: 60_000, socketTimeout: 60_000 } });
  });

  test('the CA bundle: AWS_CA_BUNDLE, else the profile\'s ca_bundle; an agent trusts it; an unreadable one is an error naming the setting', () => {
    expect(awsCaBundle({ ...base, AWS_PROFILE: 'corp' })?.value).toBe(path.join(dir, 'corp.pem'));
    expect(awsCaBundle({ ...base, AWS_PROFILE: 'corp', AWS_CA_BUNDLE: '/etc/other.pem' })).toEqual({ value: '/etc/other.pem', from: 'AWS_CA_BUNDLE' });
    expect(awsCaBundle(base)).toBeUndefined();
    const connection = s3Connection(undefined, { ...base, AWS_PROFILE: 'corp' });
    expect(connection.region).toBe('eu-west-2');
    // Added to what Node.js trusts anyway: its roots, and NODE_EXTRA_CA_CERTS.
    const ca = connection.requestHandler?.httpsAgent.options.ca as string[];
    expect(ca[0]).toBe('not parsed here\n');
    expect(ca.length).toBe(1 + tls.rootCertificates.length);
    fs.writeFileSync(path.join(dir, 'extra.pem'), 'extra\n');
    const withExtra = s3Connection(undefined, { ...base, AWS_PROFILE: 'corp', NODE_EXTRA_CA_CERTS: path.join(dir, 'extra.pem') });
    expect((withExtra.requestHandler?.httpsAgent.options.ca as string[]).slice(-1)).toEqual(['extra\n']);
    expect(() => s3Connection(undefined, { ...base, AWS_CA_BUNDLE: path.join(dir, 'nope.pem') }))
      .toThrow(`AWS_CA_BUNDLE names the CA bundle ${path.join(dir, 'nope.pem')}, which cannot be read (ENOENT); fix the path`);
  });
});
