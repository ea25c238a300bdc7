/**
 * The tool that installs a function's dependencies.
 */
export class Installer {
  /** pip, run as `python3 -m pip` with the runtime's platform tags. The default. */
  public static pip(): Installer {
    return new Installer('pip');
  }

  /**
   * uv (`uv pip install`), faster on large dependency sets: the version possum-cdk pins
   * (0.13.9), from `POSSUM_UV`, else PATH when it is that version, else installed once into
   * the build cache with pip from your configured index.
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
