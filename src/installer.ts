/**
 * The tool that installs a function's dependencies.
 */
export class Installer {
  /**
   * pip, run as `python3 -m pip` with every platform tag the runtime's glibc loads (uv
   * still resolves unlocked manifests). Several times slower than uv on a cold cache.
   */
  public static pip(): Installer {
    return new Installer('pip');
  }

  /**
   * uv (`uv pip install`), the default installer, several times faster than pip on a cold
   * cache: the version possum-cdk pins (0.13.9), from `POSSUM_UV`, else PATH when it is
   * that version, else installed once into the build cache with pip from your configured
   * index. For python3.10 and 3.11 uv's platform names stop at manylinux_2_17 below glibc
   * 2.28, so a package whose only wheel for glibc 2.26 is tagged in between (manylinux_2_24,
   * say) is installed by pip, which takes that wheel.
   *
   * Chosen by name, `Installer.uv()` also keeps uv's rule for several indexes: a package
   * comes from the first index that has it. Left to the default, uv compares every index,
   * as pip does.
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
