import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as path from 'path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise(resolve => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** moto's S3-compatible server on 127.0.0.1 (from .tools/), with one bucket made. */
export class MotoS3 {
  /** Credentials moto accepts, for child processes. */
  public static readonly ENV = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

  /**
   * @param tls a certificate and key for 127.0.0.1 and the authority that signed it: the server
   *            speaks https with them (the returned client trusts the authority; other
   *            processes need it named)
   */
  public static async start(bucket: string, tls?: { readonly cert: string; readonly key: string; readonly ca?: string }): Promise<MotoS3> {
    const port = await freePort();
    const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    const server = spawn(path.join(__dirname, '..', '..', '.tools', 'bin', 'moto_server'),
      ['-H', '127.0.0.1', '-p', String(port), ...tls ? ['-c', tls.cert, '-k', tls.key] : []], { stdio: 'ignore' });
    const client = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      requestHandler: tls ? { httpsAgent: new https.Agent({ ca: fs.readFileSync(tls.ca ?? tls.cert) }) } : undefined,
    });
    for (let i = 0; ; i++) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        break;
      } catch (e) {
        if (i > 150) {
          server.kill();
          throw e;
        }
        await new Promise(r => setTimeout(r, 100));
      }
    }
    return new MotoS3(server, endpoint, client);
  }

  private constructor(private readonly server: ChildProcess, public readonly endpoint: string, public readonly client: S3Client) {}

  public stop() {
    this.client.destroy();
    this.server.kill();
  }
}
