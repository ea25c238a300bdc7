/**
 * The tool that installs a function's dependencies.
 */
export class Installer {
  /** pip, run as `python3 -m pip` with the runtime's platform tags (uv still resolves unlocked manifests). */
  public static pip(): Installer {
    return new Installer('pip');
  }

  /**
   * uv (`uv pip install`), the default: several times faster than pip on a cold cache. The
   * version possum-cdk pins (0.13.9), from `POSSUM_UV`, else PATH when it is that version,
   * else installed once into the build cache with pip from your configured index, so every
   * machine installs with the same uv.
   */
  public static uv(): Installer {
    return new Installer('uv');
  }

  /** `pip` or `uv`. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }
}
