// The one error type the boot code throws: a malformed or unloadable image,
// with a message that names the problem (offsets and addresses in hex).

export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BootError";
  }
}
