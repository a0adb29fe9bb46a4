// cgbench-floor: the benchmark's floor, the least a FUSE server can do per read. A
// libfuse3 low-level server of one static file (/file, the bytes of CONTENT_FILE read
// at start) with direct_io and noflush like cgprocfs, on a read-only mount, with
// libfuse's single-threaded loop (-s) or its multi-threaded one (-m). SIGTERM unmounts.
//
//   cgbench-floor -s|-m CONTENT_FILE MOUNTPOINT
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_INO 2
#define FILE_NAME "file"
// As long as cgprocfs's entry and attribute validity: lookups stay out of the loop.
#define VALID_SEC 60.0

static char *content;
static size_t content_len;

static void attr_of(fuse_ino_t ino, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = ino;
  if (ino == FUSE_ROOT_ID) {
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
  } else {
    // Size 0 like /proc: direct_io makes readers read to EOF.
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
  }
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  if (parent != FUSE_ROOT_ID || strcmp(name, FILE_NAME) != 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  e.ino = FILE_INO;
  e.attr_timeout = VALID_SEC;
  e.entry_timeout = VALID_SEC;
  attr_of(FILE_INO, &e.attr);
  fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  if (ino != FUSE_ROOT_ID && ino != FILE_INO) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct stat st;
  attr_of(ino, &st);
  fuse_reply_attr(req, &st, VALID_SEC);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  if (ino != FILE_INO) {
    fuse_reply_err(req, EISDIR);
    return;
  }
  if ((fi->flags & O_ACCMODE) != O_RDONLY) {
    fuse_reply_err(req, EROFS);
    return;
  }
  fi->direct_io = 1;
  fi->noflush = 1;
  fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  if ((size_t)off >= content_len) {
    fuse_reply_buf(req, NULL, 0);
    return;
  }
  size_t n = content_len - (size_t)off;
  fuse_reply_buf(req, content + off, n < size ? n : size);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  if (ino != FUSE_ROOT_ID) {
    fuse_reply_err(req, ENOTDIR);
    return;
  }
  char out[512];
  size_t used = 0;
  const char *names[] = {".", "..", FILE_NAME};
  const fuse_ino_t inos[] = {FUSE_ROOT_ID, FUSE_ROOT_ID, FILE_INO};
  for (off_t i = off; i < 3; i++) {
    struct stat st;
    attr_of(inos[i], &st);
    size_t len = fuse_add_direntry(req, out + used, sizeof out - used, names[i], &st, i + 1);
    if (used + len > sizeof out || used + len > size) break;
    used += len;
  }
  fuse_reply_buf(req, out, used);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = op_lookup,
    .getattr = op_getattr,
    .open = op_open,
    .read = op_read,
    .readdir = op_readdir,
};

static int load(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  content = malloc(1 << 20);
  content_len = content ? fread(content, 1, 1 << 20, f) : 0;
  fclose(f);
  return content_len > 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "-s") != 0 && strcmp(argv[1], "-m") != 0)) {
    fprintf(stderr, "usage: cgbench-floor -s|-m CONTENT_FILE MOUNTPOINT\n");
    return 2;
  }
  int multi = argv[1][1] == 'm';
  if (load(argv[2]) != 0) {
    fprintf(stderr, "cgbench-floor: cannot read %s\n", argv[2]);
    return 1;
  }
  char *fuse_argv[] = {argv[0], "-o",
                       "ro,noatime,allow_other,default_permissions,fsname=cgbench-floor,subtype=cgbench-floor", NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
  struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
  if (!se) return 1;
  int rc = 1;
  if (fuse_set_signal_handlers(se) == 0) {
    if (fuse_session_mount(se, argv[3]) == 0) {
      printf("serving %s\n", multi ? "multi-threaded" : "single-threaded");
      fflush(stdout);
      if (multi) {
        struct fuse_loop_config *config = fuse_loop_cfg_create();
        rc = fuse_session_loop_mt(se, config);
        fuse_loop_cfg_destroy(config);
      } else {
        rc = fuse_session_loop(se);
      }
      fuse_session_unmount(se);
    }
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  return rc < 0 ? 1 : 0;
}
