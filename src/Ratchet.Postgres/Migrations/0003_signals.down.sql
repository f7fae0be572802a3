DROP FUNCTION ratchet_signal_refused(text, text);
DROP TABLE signals;
