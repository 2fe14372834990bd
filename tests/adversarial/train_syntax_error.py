from transformers import TrainingArguments
args = TrainingArguments(per_device_train_batch_size=4,
