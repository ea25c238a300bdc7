/** The benchmarks' 10 functions: real, commonly used dependency sets, pure and binary. */
export const BENCH_FUNCTIONS: string[][] = [
  ['requests==2.32.3'],
  ['pydantic==2.11.7'],
  ['PyYAML==6.0.2', 'Jinja2==3.1.6'],
  ['attrs==24.2.0', 'python-dateutil==2.9.0.post0'],
  ['orjson==3.10.18'],
  ['numpy==2.2.6'],
  ['structlog==25.4.0', 'requests==2.32.3'],
  ['cryptography==45.0.4'],
  ['aws-lambda-powertools==3.15.1'],
  ['httpx==0.28.1'],
];
