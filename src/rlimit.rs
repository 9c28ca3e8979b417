//! Raises the soft `RLIMIT_NOFILE` to the hard limit at start. Every client connection to an
//! endpoint costs the server two descriptors (the client's and the one to the node), so the
//! common soft limit of 1024 runs out at about 500 idle connections; the hard limit is what
//! the administrator actually allows.

/// Raises the soft limit to the hard one; logs what it did (or why it could not).
pub fn raise_nofile_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        let error = std::io::Error::last_os_error();
        tracing::warn!(%error, "cannot read the open-file limit");
        return;
    }
    let soft = limit.rlim_cur;
    if soft >= limit.rlim_max {
        tracing::info!(limit = soft, "open-file limit (soft = hard)");
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: limit.rlim_max,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        tracing::info!(
            from = soft,
            to = limit.rlim_max,
            "raised the open-file limit to the hard limit"
        );
    } else {
        let error = std::io::Error::last_os_error();
        tracing::warn!(%error, soft, hard = limit.rlim_max, "cannot raise the open-file limit");
    }
}
