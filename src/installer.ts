/**
 * The tool that installs a function's dependencies.
 */
export class Installer {
  /**
   * pip, run as `python3 -m pip` with every platform tag the runtime's glibc loads (uv
   * still resolves unlocked manifests). The default.
   */
  public static pip(): Installer {
    return new Installer('pip');
  }

  /**
   * uv (`uv pip install`), several times faster than pip on a cold cache: the version
   * possum-cdk pins (0.13.9), from `POSSUM_UV`, else PATH when it is that version, else
   * installed once into the build cache with pip from your configured index. For python3.10
   * and 3.11 it takes manylinux_2_17 wheels at most (uv names no platform between 2_17 and
   * 2_28), where pip also takes manylinux_2_24 ones.
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
