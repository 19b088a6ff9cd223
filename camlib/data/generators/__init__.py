"""Generated benchmarks: photographed objects (stamps) pasted onto real photos with exact masks, scene text, object scenes, VQA scenes."""
