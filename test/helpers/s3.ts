import { ChildProcess, spawn } from 'child_process';
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

  public static async start(bucket: string): Promise<MotoS3> {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const server = spawn(path.join(__dirname, '..', '..', '.tools', 'bin', 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
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
