/** Domain knowledge of MirageOS, dune and Solo5. No Nx, no processes, no file system. */
export * from './config-ml/lexer';
export * from './config-ml/reader';
export * from './config-ml/edit';
export * from './targets';
export * from './unikernel';
export * from './tools';
export * from './version';
export * from './dune-root';
export * from './solo5-elf';
export * from './manifest';
export * from './dune-file';
export * from './graph';
export * from './runner';
export * from './toolchain';
export * from './model';
export * from './xen';
