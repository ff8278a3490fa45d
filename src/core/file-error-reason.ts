// A file-system error in words, for the one-line refusals of the operations commands (backup,
// restore, a database that cannot be read): node's own message names the system call and repeats
// the path, which the sentence around the reason names already.

export type FileError = Error & { code?: string; path?: string };

/** node's error codes in words; the message node gave for any other. ENOENT means too many things to say here. */
export function fileErrorReason(error: FileError): string {
  switch (error.code) {
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOTDIR': return 'part of that path is a file, not a folder';
    case 'EISDIR': return 'it is a folder, not a file';
    case 'ELOOP': return 'it is a loop of symbolic links';
    case 'EROFS': return 'the file system is read-only';
    case 'ENOSPC': return 'the disk is full';
    case 'EDQUOT': return 'the disk quota is used up';
    default: return error.message;
  }
}
