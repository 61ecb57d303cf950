/* EventFlow dashboard shell (F1) */
