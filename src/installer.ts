/**
 * The tool that installs a function's dependencies.
 */
export class Installer {
  /** pip, run as `python3 -m pip` with the runtime's platform tags. The default. */
  public static pip(): Installer {
    return new Installer('pip');
  }

  /** uv (`uv pip install`), which must be on PATH. Faster on large dependency sets. */
  public static uv(): Installer {
    return new Installer('uv');
  }

  /** `pip` or `uv`. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }
}
