"""File datasets as pure logic: which files a folder holds, what they hash to, and how a
version of them is written down and written back out.

Nothing here touches the database or the object store directly; the service
(``mlgrove.services.filesets``) wires these pieces to both.

- :mod:`.walk`: list a folder's files with their stat (ignore rules, symlink rule)
- :mod:`.hashing`: BLAKE3 many files on a thread pool, detecting files that change
- :mod:`.statcache`: (size, mtime, inode) → address, so unchanged files are not re-hashed
- :mod:`.manifest`: a version's canonical list of (path, address, size, executable)
- :mod:`.compare`: added / removed / modified between two lists of files
- :mod:`.materialise`: write a version's files into a folder, verifying every byte
"""
