/*
 * export.h - the export endpoint's start-up (export.c); its protocol is
 * in <uma/stream.h>, its public calls in <uma/sysctl.h>.
 */
#ifndef _UMA_EXPORT_H_
#define	_UMA_EXPORT_H_

/* uma.export, the boot tunable (UMA_EXPORT=1 sets it too). */
extern int uma_export_tunable __attribute__((visibility("hidden")));

/* Serve if uma.export is set and nobody serves yet (threads.c). */
void	uma__export_boot(void) __attribute__((visibility("hidden")));

#endif /* !_UMA_EXPORT_H_ */
