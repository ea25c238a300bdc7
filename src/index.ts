export * from './bundling-options';
export * from './installer';
export * from './python-pipfile-function';
export * from './python-pipfile-layer';
export * from './size-report';
export * from './sam-template-packager';
