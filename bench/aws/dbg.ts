setTimeout(() => {
  console.error('resources', process.getActiveResourcesInfo());
  process.exit(3);
}, 8000).unref?.();
