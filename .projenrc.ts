import { awscdk, javascript } from 'projen';

// aws-cdk-lib 2.224.0 is the first release whose jsii assembly declares the resource
// reference interfaces (lambda.ICodeSigningConfigRef, kms.IKeyRef, ...) under
// aws-cdk-lib.interfaces, where every later release keeps them. Our props extend
// lambda.FunctionOptions, so Java and Python bindings compiled against an older release
// fail to compile/import against the aws-cdk-lib that Maven and pip resolve (the newest).
// It also has Runtime.PYTHON_3_14 (from 2.222.0). See "Minimum aws-cdk-lib" in the README.
const MIN_CDK_VERSION = '2.224.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'possum-cdk',
  description: 'Docker-free, byte-reproducible, cached bundling of Python Lambda functions for AWS CDK and SAM.',
  author: 'possum-cdk developers',
  authorAddress: 'dev@possum.dev',
  repositoryUrl: 'https://github.com/possum-cdk/possum-cdk.git',
  keywords: ['cdk', 'lambda', 'python', 'pipenv', 'sam', 'reproducible-builds'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  cdkVersion: MIN_CDK_VERSION,
  jsiiVersion: '~6.0.0',
  // zlib.crc32 (used by the zip engine) exists from Node 20.15.
  minNodeVersion: '20.15.0',

  // The engine and the lock-file readers use these; they are bundled so that
  // jsii consumers (Python, Java) get them inside our tarball.
  bundledDeps: ['smol-toml@^1.3.0', 'yaml@^2.6.0', '@aws-sdk/client-s3@^3.700.0'],
  devDeps: [
    '@types/node@^20',
    'aws-cdk@^2.1100.0',
    // Only the zip benchmark uses archiver, as a point of comparison.
    'archiver@^7.0.1',
    '@types/archiver@^6',
  ],

  publishToPypi: {
    distName: 'possum-cdk',
    module: 'possum_cdk',
  },
  publishToMaven: {
    javaPackage: 'dev.possum.cdk',
    mavenGroupId: 'dev.possum',
    mavenArtifactId: 'possum-cdk',
  },

  // No GitHub here: CI is .ci/run.
  github: false,
  release: false,
  docgen: true,

  jestOptions: {
    jestConfig: {
      testTimeout: 300_000,
      // The real-PyPI suite and the bindings suite run on their own:
      // `npx projen test:integration`, `npx projen test:bindings`.
      testPathIgnorePatterns: ['/node_modules/', '/examples/', '/bench/', '/cdk.out/', '/test/integration/', '/test/bindings/'],
      // Tools, caches and outputs hold thousands of files (a SAM CLI ships package.json
      // templates) that jest's module map would otherwise index.
      modulePathIgnorePatterns: ['<rootDir>/.tools/', '<rootDir>/.possum-cache/', '<rootDir>/cdk.out/', '<rootDir>/bench/out/', '<rootDir>/dist/'],
      // Coverage instrumentation slows the large zip trees down for no gain here.
      collectCoverage: false,
    },
  },

  gitignore: [
    'cdk.out/',
    'examples/**/cdk.out/',
    'bench/out/',
    '.possum-cache/',
    '.tools/',
    '__pycache__/',
    'examples/java/target/',
    'test/bindings/java/target/',
  ],
  npmIgnoreOptions: { ignorePatterns: ['/bench/', '/examples/', '/.ci/', '/build-tools/', '/.tools/', '/.possum-cache/', '/cdk.out/', '/dist/'] },
});

// Zip headers, DOS timestamps and file modes are bit fields.
project.eslint?.addOverride({
  files: ['src/private/zip/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
  rules: { 'no-bitwise': 'off' },
});

// build-tools/ holds repository scripts outside src/ and test/ (no tsconfig of their own).
project.eslint?.allowDefaultProjectFiles('build-tools/*.ts');

project.package.addBin({
  'package-python-function': 'lib/cli/package-python-function.js',
  'possum': 'lib/cli/possum.js',
  'possum-cache': 'lib/cli/possum-cache.js',
});

// Python tools the tests run (cfn-lint, awslambdaric), in a project-local venv so that
// `npx projen test` works on a fresh clone. Reinstalled only when the pins change.
const installTools = project.addTask('install-tools', {
  description: 'Install the Python tools the tests use into .tools/',
  // Installed over the existing venv (not removed first): .tools/ also holds caches that
  // tests build on demand (reference tools, the Lambda emulator, downloaded corpora).
  exec: '[ -x .tools/bin/python ] && cmp -s .ci/python-tools.txt .tools/installed.txt || '
    + '(python3 -m venv .tools && .tools/bin/python -m pip install --quiet --disable-pip-version-check -r .ci/python-tools.txt '
    + '&& cp .ci/python-tools.txt .tools/installed.txt)',
});

// Tests run the compiled engine in a child process (see src/private/zip/run-sync.ts),
// so `test` compiles first.
project.testTask.prependSpawn(project.compileTask);
project.testTask.prependSpawn(installTools);

const integration = project.addTask('test:integration', {
  description: 'Integration suite against real PyPI packages (needs network)',
  exec: 'jest --testPathIgnorePatterns /node_modules/ --testMatch "<rootDir>/test/integration/**/*.test.ts"',
});
integration.prependSpawn(project.compileTask);
integration.prependSpawn(installTools);

// One jsii-pacmak run for all three targets: it packs the npm tarball once and builds the
// Python wheel + sdist and the Java jar + pom from it (three runs would pack it three times).
project.tasks.tryFind('package-all')!.reset('jsii-pacmak --target js --target python --target java');

// The Python and Java bindings against the packages just built (needs PyPI and Maven Central).
const bindings = project.addTask('test:bindings', {
  description: 'Python and Java bindings: example apps in three languages, synthesized and compared (needs PyPI, Maven Central)',
  exec: 'jest --testPathIgnorePatterns /node_modules/ --testMatch "<rootDir>/test/bindings/**/*.test.ts"',
});
bindings.prependSpawn(project.tasks.tryFind('package-all')!);
bindings.prependSpawn(project.compileTask);

project.addTask('bench:zip', {
  description: 'Zip engine benchmark (bench/README.md)',
  exec: 'ts-node --project test/tsconfig.json bench/zip-bench.ts',
});

project.addTask('bench:loader', {
  description: 'Nested-bundle loader against zipfile extractall (bench/README.md; needs PyPI)',
  exec: 'ts-node --project test/tsconfig.json bench/loader-bench.ts',
});

project.addTask('bench:cli', {
  description: 'package-python-function against the original Python tool: time and peak memory (bench/README.md; needs PyPI)',
  steps: [
    { spawn: 'compile' },
    { exec: 'ts-node --project test/tsconfig.json bench/cli-bench.ts' },
  ],
});

project.addTask('bench:bytecode', {
  description: 'Cold import from a bundle with and without checked-hash bytecode (bench/README.md; needs PyPI)',
  steps: [
    { spawn: 'compile' },
    { exec: 'ts-node --project test/tsconfig.json bench/bytecode-bench.ts' },
  ],
});

project.addTask('bench:remote', {
  description: 'Remote build cache: a runner with an empty local cache and a warm S3 cache against a fully cold synth (bench/README.md; needs PyPI)',
  steps: [
    { spawn: 'compile' },
    { exec: 'ts-node --project test/tsconfig.json bench/remote-bench.ts' },
  ],
});

project.addTask('bench:bundle', {
  description: 'Bundling benchmark against a plain Code.fromAsset app (bench/README.md; needs PyPI)',
  steps: [
    { spawn: 'compile' },
    { exec: 'ts-node --project test/tsconfig.json bench/bundle-bench.ts' },
  ],
});

project.addTask('bench:sam', {
  description: 'possum vs sam build (bench/README.md; needs PyPI)',
  steps: [
    { spawn: 'compile' },
    { spawn: 'install-tools' },
    { exec: '[ -x bench/out/sam-venv/bin/sam ] || (python3 -m venv bench/out/sam-venv && bench/out/sam-venv/bin/pip install --quiet aws-sam-cli)' },
    { exec: 'ts-node --project test/tsconfig.json bench/sam-bench.ts' },
  ],
});

project.addTask('synth-example', {
  description: 'Synthesize the example app under examples/ with the real engine',
  steps: [
    { spawn: 'compile' },
    { exec: 'cdk synth --quiet', cwd: 'examples/typescript' },
  ],
});

project.tsconfigDev.addInclude('bench/**/*.ts');
project.tsconfigDev.addInclude('examples/**/*.ts');
project.tsconfigDev.addInclude('build-tools/**/*.ts');

project.addTask('docs:examples', {
  description: 'Refill the README\'s example code from examples/ (test/docs checks it)',
  exec: 'ts-node --project test/tsconfig.json build-tools/readme-examples.ts',
});

project.synth();
